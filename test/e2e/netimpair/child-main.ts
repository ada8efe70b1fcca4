/**
 * The shell of a script that runs as a child inside a netimpair namespace (`netimpair exec … -- tsx
 * script.ts`): it reports to its parent as JSON lines on stdout, and it ends by itself at a
 * deadline even if the parent forgets it (a namespace outlives nobody's test).
 */

/** One JSON line to the parent. */
export function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Runs `main`, exits 0 when it resolves, 1 (with an `error` line) when it rejects or `deadlineMs` passes. */
export function runChild(name: string, main: () => Promise<void>, deadlineMs: number): void {
  const selfDeadline = setTimeout(() => {
    emit({ type: 'error', message: `${name}: self deadline reached` });
    process.exit(1);
  }, deadlineMs);
  selfDeadline.unref();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );
}
