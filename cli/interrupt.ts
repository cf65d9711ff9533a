// Ctrl-C (SIGINT) or SIGTERM during a prune: exit at once (130 or 143) with nothing written.
// The prune runs on a work thread (work-thread.ts), so the main thread is free and the handler runs
// as the signal arrives; every signal counts (no window that merges two into one). The output is
// written in one synchronous run after the prune (atomic-output.ts): a signal arriving then is
// handled only once it is over, and by then the handler is gone (dispose), so a run is either
// interrupted with nothing written or complete.
import { constants } from "node:os";

interface Interrupt {
  /** Stops listening: from here on the signals have their default action again. */
  dispose(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

export function listenForInterrupt(beforeExit: () => void): Interrupt {
  const onSignal = (signal: NodeJS.Signals) => {
    beforeExit();
    process.stderr.write(`net-trim: ${signal === "SIGINT" ? "interrupted" : "terminated"}: nothing was written\n`);
    process.exit(128 + constants.signals[signal]);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return { dispose: () => { for (const s of SIGNALS) process.off(s, onSignal); } };
}
