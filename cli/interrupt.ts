// Ctrl-C during a prune: the first press aborts the solves (nothing is written), a second one
// exits at once.
interface Interrupt {
  signal: AbortSignal;
  interrupted(): boolean;
  dispose(): void;
}

export function listenForInterrupt(onFirst: () => void): Interrupt {
  const controller = new AbortController();
  let interrupted = false;
  let firstSigint = 0;
  const onSigint = () => {
    if (interrupted) {
      // Wrappers (npx, tsx) relay the terminal's SIGINT that this process also got: one press, not two.
      if (performance.now() - firstSigint < 300) return;
      process.stderr.write("net-trim: interrupted: nothing was written\n");
      process.exit(130); // a second Ctrl-C: stop now
    }
    interrupted = true;
    firstSigint = performance.now();
    controller.abort();
    onFirst();
    process.stderr.write("net-trim: interrupted, stopping the solves (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);
  return { signal: controller.signal, interrupted: () => interrupted, dispose: () => process.off("SIGINT", onSigint) };
}
