/**
 * `npm run bench:soak`: the gateway carrying N calls for a long time, its memory sampled after a
 * forced GC every minute; after a warm-up, the trend of the heap and of the RSS must stay within
 * 1 % per 10 minutes (a leak grows them steadily; a healthy process levels off).
 *
 *   npx tsx bench/soak.bench.ts [--calls N] [--minutes M] [--every S] [--warmup W]
 *     defaults: 100 calls, 30 minutes, a sample every 60 s, warm-up min(5, M/3) minutes
 *
 * Same processes as the load bench (bench/load/): the gateway alone in its child on CPU 0, the lean
 * callers and the lean Realtime model in the generator on CPU 1. The calls hold real conversations:
 * every caller asks a question every 15 s (starts spread over 5 s) and gets a 10 s answer, spoken 10×
 * faster than real time, played in real time with mark echoes. So turns, marks, queues and
 * per-response state come and go all the time: what a turn leaves behind shows as a trend.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { printTable, writeResults } from './report.js';
import { runWhenMain, wholeNumberFlag } from './cli.js';
import { GeneratorChild, ServerChild } from './load/child-link.js';
import { BENCH_API_KEY, type MemorySample } from './load/protocol.js';

export interface SoakOptions {
  readonly calls: number;
  readonly minutes: number;
  /** Seconds between samples (60 by default; shorter for a quick check of the bench itself). */
  readonly every: number;
  /** Minutes left out of the trend (start-up, JIT, pools filling). */
  readonly warmup: number;
}

const LIMITS = { calls: [1, 1000], minutes: [2, 240], every: [5, 600], warmup: [0, 120] } as const;
const ANSWER_MS = 10_000;
const ASK_EVERY_MS = 15_000;
const ASK_SPREAD_MS = 5_000;
const SPEED_FACTOR = 10;
/** The goal: |trend| ≤ 1 % per 10 minutes after warm-up. */
export const GOAL_PERCENT_PER_10_MIN = 1;

export interface Sample extends MemorySample {
  /** Minutes since the calls started. */
  readonly minute: number;
}

/**
 * Least-squares slope of `values` over `minutes`, as % of their mean per 10 minutes. NaN with fewer
 * than two points (no trend can be told).
 */
export function trendPercentPer10Min(minutes: readonly number[], values: readonly number[]): number {
  const n = Math.min(minutes.length, values.length);
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += minutes[i]! / n;
    my += values[i]! / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (minutes[i]! - mx) * (values[i]! - my);
    sxx += (minutes[i]! - mx) ** 2;
  }
  if (sxx === 0 || my === 0) return Number.NaN;
  return ((sxy / sxx) * 10 * 100) / my;
}

export async function run(options: SoakOptions): Promise<void> {
  const generator = await GeneratorChild.start({ apiKey: BENCH_API_KEY, answerMs: ANSWER_MS, speedFactor: SPEED_FACTOR });
  let child: ServerChild | undefined;
  const samples: Sample[] = [];
  try {
    const started = await ServerChild.start('gateway', generator.modelUrl);
    child = started.child;
    await generator.connect(`ws://127.0.0.1:${started.port}/twilio/media`, options.calls);
    child.begin();
    generator.begin(ASK_SPREAD_MS, ASK_EVERY_MS);
    const t0 = performance.now();
    const end = t0 + options.minutes * 60_000;
    for (let next = t0 + options.every * 1000; next <= end + 1; next += options.every * 1000) {
      // Wall-clock pacing of the samples: the sleep is the soak, not a synchronisation.
      await sleep(Math.max(0, next - performance.now()));
      const memory = await child.sample();
      const minute = (performance.now() - t0) / 60_000;
      samples.push({ minute, ...memory });
      console.log(`${minute.toFixed(1)} min: heap ${(memory.heapUsed / 2 ** 20).toFixed(1)} MiB, RSS ${(memory.rss / 2 ** 20).toFixed(1)} MiB, arrayBuffers ${(memory.arrayBuffers / 2 ** 20).toFixed(1)} MiB`);
    }
    const load = await generator.end();
    const server = await child.end();
    const kept = samples.filter((s) => s.minute >= options.warmup);
    const trend = (key: keyof MemorySample): number => trendPercentPer10Min(kept.map((s) => s.minute), kept.map((s) => s[key]));
    const trends = { heapUsed: trend('heapUsed'), rss: trend('rss'), arrayBuffers: trend('arrayBuffers') };
    const within = Math.abs(trends.heapUsed) <= GOAL_PERCENT_PER_10_MIN && Math.abs(trends.rss) <= GOAL_PERCENT_PER_10_MIN;
    const warnings: string[] = [];
    if (kept.length < 3) warnings.push(`only ${kept.length} samples after warm-up: the trend means little`);
    if (load.callers.closedEarly > 0) warnings.push(`${load.callers.closedEarly} calls closed during the soak`);
    if (load.callers.violations > 0) warnings.push(`callers saw ${load.callers.violations} Twilio protocol violations`);
    if (server.liveCalls !== options.calls) warnings.push(`the gateway held ${server.liveCalls} calls at the end, not ${options.calls}`);
    printTable(`Soak: ${options.calls} calls × ${options.minutes} min, memory after forced GC (trend over minutes ≥ ${options.warmup})`, [
      { figure: 'heap used', 'trend % / 10 min': trends.heapUsed, 'first kept (MiB)': (kept[0]?.heapUsed ?? 0) / 2 ** 20, 'last (MiB)': (kept.at(-1)?.heapUsed ?? 0) / 2 ** 20 },
      { figure: 'RSS', 'trend % / 10 min': trends.rss, 'first kept (MiB)': (kept[0]?.rss ?? 0) / 2 ** 20, 'last (MiB)': (kept.at(-1)?.rss ?? 0) / 2 ** 20 },
      { figure: 'arrayBuffers', 'trend % / 10 min': trends.arrayBuffers, 'first kept (MiB)': (kept[0]?.arrayBuffers ?? 0) / 2 ** 20, 'last (MiB)': (kept.at(-1)?.arrayBuffers ?? 0) / 2 ** 20 },
    ]);
    console.log(`\n${within ? 'within' : 'OUTSIDE'} the goal (|trend| ≤ ${GOAL_PERCENT_PER_10_MIN} % per 10 min for heap and RSS); dry periods ${load.callers.underruns} (each answer's end counts: not underruns), played ${(load.callers.meanPlayedMs / 1000).toFixed(0)} s per call; gateway CPU ${((server.cpuMs / server.wallMs) * 100).toFixed(1)} %, lag p99 ${server.lagP99Ms.toFixed(1)} ms; generator CPU ${load.cpuPercent.toFixed(0)} %, lag p99 ${load.lagP99Ms.toFixed(1)} ms`);
    for (const warning of warnings) console.log(`> warning: ${warning}`);
    const path = writeResults('soak', {
      options, answerMs: ANSWER_MS, askEveryMs: ASK_EVERY_MS, speedFactor: SPEED_FACTOR, loadavg: loadavg(),
      samples, trends, goalPercentPer10Min: GOAL_PERCENT_PER_10_MIN, within,
      callers: load.callers, generator: { cpuPercent: load.cpuPercent, lagP99Ms: load.lagP99Ms }, server, warnings,
    });
    console.log(`results: ${path}`);
  } finally {
    await generator.stop().catch(() => generator.kill());
    if (child !== undefined) await child.stop();
  }
}

/** `--calls N --minutes M --every S --warmup W` (any may be left out). */
export function parseArgs(argv: readonly string[]): SoakOptions {
  const values: Record<keyof SoakOptions, number | undefined> = { calls: 100, minutes: 30, every: 60, warmup: undefined };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof SoakOptions;
    if (!(key in LIMITS)) throw new Error(`unknown argument ${argv[i]}: use --calls N --minutes M --every S --warmup W`);
    values[key] = wholeNumberFlag(`--${key}`, argv[i + 1], LIMITS[key]);
  }
  const minutes = values.minutes ?? 30;
  return { calls: values.calls ?? 100, minutes, every: values.every ?? 60, warmup: values.warmup ?? Math.min(5, Math.floor(minutes / 3)) };
}

runWhenMain(import.meta.url, (argv) => run(parseArgs(argv)));
