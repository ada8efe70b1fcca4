/**
 * `npm run bench`: every micro-benchmark, each reporting ratios against a reference measured in the
 * same run (machines are shared and noisy, so absolute numbers are only indicative).
 * `npm run bench -- flow` runs the suites whose name contains "flow".
 */
const SUITES = ['audio', 'flow', 'vad', 'tts'] as const;

const filter = process.argv.slice(2);
for (const suite of SUITES) {
  if (filter.length > 0 && !filter.some((f) => suite.includes(f))) continue;
  const mod = (await import(`./${suite}.bench.ts`)) as { run: () => Promise<void> };
  await mod.run();
}
