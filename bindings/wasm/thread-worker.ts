// A worker's side of a threaded solve: its own instance of the threaded build on the solve's
// shared memory, configured like the main one, then serving iteration commands until the exit
// command (the worker's thread blocks in wasm meanwhile: it is dedicated to this solve).
import { instantiateShared } from "./threaded-loader.ts";
import type { ThreadJoin } from "./threaded-engine.ts";

/** Joins the solve; calls `ready` once it waits for commands, returns after the exit command. */
export async function serveAsThread(join: ThreadJoin, ready: () => void): Promise<void> {
  const { exports: ex } = await instantiateShared(join.module, join.memory);
  ex.admmConfigure(...join.configure);
  if (join.convConfigure) ex.convConfigure(...join.convConfigure);
  ready();
  ex.admmServeThread(join.control, join.thread, join.gemmScratch, join.spmmScratch);
}
