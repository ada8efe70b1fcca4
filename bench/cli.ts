/**
 * The command-line shell shared by the benches that run as scripts (`tsx bench/x.bench.ts --flag N`):
 * whole-number flags checked against their bounds, and "run when started directly" (a test may
 * import the module for its parser without starting a bench).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `raw` as a whole number within [min, max]; otherwise an error naming the flag. */
export function wholeNumberFlag(flag: string | undefined, raw: string | undefined, [min, max]: readonly [number, number]): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${flag} must be a whole number in ${min}–${max} (got ${raw})`);
  }
  return value;
}

/** Runs `main` with the command's arguments when `moduleUrl` is the script node was started with. */
export function runWhenMain(moduleUrl: string, main: (argv: readonly string[]) => Promise<void>): void {
  const entry = process.argv[1];
  if (entry === undefined || moduleUrl !== pathToFileURL(resolve(entry)).href) return;
  Promise.resolve(process.argv.slice(2))
    .then(main)
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
