// net-trim queue submit | work | status: the plan's layers as BullMQ jobs on Redis (see
// bindings/distributed/queue.ts for the failure behaviour).
import { queueStatus, runQueueWorker, submitLayerJobs, waitForResults } from "../bindings/distributed/queue.ts";
import { integer, parseNumber, UsageError } from "./arguments.ts";
import { only, workStoreOf, type Values } from "./jobs-command.ts";
import { textTable } from "./report.ts";

function redisOf(values: Values): { redis: string; queue?: string } {
  if (values.redis === undefined) throw new UsageError("--redis: expected the Redis URL of the queue (redis://host:port), received nothing");
  return { redis: values.redis, ...(values.queue !== undefined ? { queue: values.queue } : {}) };
}

/** Resolves on SIGINT or SIGTERM (how a batch system stops a worker). */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

export async function queueCommand(positionals: string[], values: Values): Promise<number> {
  const [sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`queue ${sub}: expected no further argument, received ${extra.map((p) => JSON.stringify(p)).join(" ")}`);
  const note = (s: string) => { if (!values.quiet) process.stderr.write(`net-trim: ${s}\n`); };
  switch (sub) {
    case "submit": {
      only("queue submit", values, ["work", "redis", "queue", "wait"]);
      const store = workStoreOf(values, "queue submit");
      const connection = redisOf(values);
      const r = await submitLayerJobs(store, connection);
      process.stdout.write(`submitted ${r.submitted.length} jobs (layers ${r.submitted.join(", ") || "none"}); ` +
        `${r.queued.length} already queued, ${r.solved.length} layers already solved\n`);
      if (!values.wait) return 0;
      note("waiting until every layer has a result (Ctrl-C stops waiting; the jobs stay queued)");
      await waitForResults(store, { ...connection, signal: stopSignal(), onResubmit: (layers) => note(`the queue had lost layers ${layers.join(", ")}: submitted again`) });
      process.stdout.write(`every layer has a result: net-trim merge --work ${store.location} -o <outDir>\n`);
      return 0;
    }
    case "work": {
      only("queue work", values, ["work", "redis", "queue", "concurrency", "lock-duration", "stalled-interval"]);
      const ms = (flag: "lock-duration" | "stalled-interval") =>
        values[flag] === undefined ? undefined : parseNumber(flag, values[flag], "a number of milliseconds (an integer ≥ 100)", integer(100));
      const concurrency = values.concurrency === undefined ? 1 : parseNumber("concurrency", values.concurrency, "an integer ≥ 1", integer(1));
      note(`processing layer jobs of queue "${values.queue ?? "net-trim"}" at ${values.redis ?? "?"} (SIGINT or SIGTERM stops)`);
      await runQueueWorker({
        ...redisOf(values), concurrency, signal: stopSignal(),
        ...(values.work !== undefined ? { work: workStoreOf(values, "queue work").location } : {}),
        ...(ms("lock-duration") !== undefined ? { lockDuration: ms("lock-duration") } : {}),
        ...(ms("stalled-interval") !== undefined ? { stalledInterval: ms("stalled-interval") } : {}),
        onEvent: (e) => process.stdout.write(`layer ${e.layer}: ${e.message}\n`),
      });
      return 0;
    }
    case "status": {
      only("queue status", values, ["redis", "queue"]);
      const jobs = await queueStatus(redisOf(values));
      if (values.json) {
        process.stdout.write(JSON.stringify(jobs, null, 2) + "\n");
        return 0;
      }
      const progress = (p: unknown) => (p && typeof p === "object" && "iteration" in p ? `iteration ${(p as { iteration: number }).iteration}` : "");
      const rows = jobs.map((j) => [j.id, String(j.layer), j.state, progress(j.progress), String(j.attemptsMade), String(j.stalledCounter), j.failedReason ?? "", j.work]);
      process.stdout.write(textTable(["job", "layer", "state", "progress", "attempts", "stalled", "failure", "work"], rows, [false, true, false, false, true, true, false, false]).join("\n") + "\n");
      return 0;
    }
    default:
      throw new UsageError(`queue: expected submit, work or status, received ${sub === undefined ? "nothing" : JSON.stringify(sub)}`);
  }
}
