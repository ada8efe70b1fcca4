/**
 * `npm run bench:load`: the gateway under N concurrent calls for a fixed time, against a naive
 * forwarder (bench/naive-forwarder.ts, the public sample's way) measured the same way in the same
 * run, reported as ratios.
 *
 *   npx tsx bench/load.bench.ts [--calls N] [--seconds S] [--lead-ms L] [--traced]   (defaults: 50 calls, 20 s, 3000 ms)
 *
 * `--traced` adds a third server in the same run: the gateway exporting every span (sampler
 * always_on) and its metrics to an in-process OTLP receiver; the report gives its CPU per
 * call-second against the untraced gateway's (the tracing overhead; goal ≤ 1.05).
 *
 * For each server in turn, three processes: the server under test alone in a child
 * (bench/load/server-child.ts) pinned to CPU 0, measuring its own CPU, RSS / heap and event-loop lag
 * over the window; the load generator (bench/load/generator.ts) pinned to CPU 1: a lean fake OpenAI
 * Realtime model and N lean Twilio callers driven by one timer, reporting its own CPU and lag; and
 * this parent, which only orchestrates (`BENCH_LOAD_CPUS=a,b` picks other CPUs, `none` does not pin).
 * Every caller asks one question; the fake model answers with more audio than the window lasts, 10×
 * faster than real time, so every call is streaming for the whole window; callers play in real time
 * and echo marks. The callers count underruns (buffer drained while the answer was still coming) and
 * the most audio banked in their buffer, which is what a barge-in has to throw away.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { printTable, writeResults } from './report.js';
import { runWhenMain, wholeNumberFlag } from './cli.js';
import { COMPILED, GENERATOR_CPU, GeneratorChild, SERVER_CPU, ServerChild } from './load/child-link.js';
import { comparisonRows, figuresOf, type RunResult } from './load/figures.js';
import { BENCH_API_KEY, type ServerKind } from './load/protocol.js';
import { OtlpReceiver } from '../test/fakes/otlp/receiver.js';

export interface LoadBenchOptions {
  /** Concurrent calls. */
  readonly calls: number;
  /** Length of the measurement window, s. */
  readonly seconds: number;
  /** Also run the gateway with tracing on (always_on, exported to a local OTLP receiver). */
  readonly traced?: boolean;
  /**
   * The first `leadMs` of each answer come 10× faster than real time, the rest in real time
   * (default {@link DEFAULT_LEAD_MS}); `--lead-ms 600000` sends the whole answer fast (the shape before).
   */
  readonly leadMs?: number;
  /**
   * Also run the two lower bounds of bench/floor-forwarder.ts (receive only; the gateway's message
   * cadence with no logic), so the gateway's cost splits into moving messages and its own logic.
   */
  readonly floors?: boolean;
}

/**
 * A model that got 3 s ahead and then keeps pace: the server holds ≈ 2 s per call, and a thousand
 * calls' answers do not all land in the same three seconds (with the whole answer 10× fast they did,
 * 100 000 deltas a second, which no one core receives).
 */
export const DEFAULT_LEAD_MS = 3_000;

/** 50 calls × 20 s: the whole bench (both servers) takes about a minute. */
export const DEFAULT_LOAD: LoadBenchOptions = { calls: 50, seconds: 20 };

const LIMITS = { calls: [1, 1000], seconds: [2, 600], leadMs: [0, 600_000] } as const;
/** The fake model speaks this many times faster than real time (the public API: 3–10×). */
const SPEED_FACTOR = 10;
/** Questions start spread over this long (5 ms per call, at least 1 s), so the calls are not in lock-step. */
const askSpreadMs = (calls: number): number => Math.max(1_000, calls * 5);
/**
 * The answer outlasts the window by this much: the first audio comes ≈ 1–2.5 s into the window
 * (spread, question, the VAD's 500 ms of silence), so every call still has audio coming at its end.
 */
const ANSWER_MARGIN_MS = 10_000;

async function measure(kind: ServerKind, options: LoadBenchOptions, otlpUrl?: string): Promise<RunResult> {
  const { calls, seconds } = options;
  const generator = await GeneratorChild.start({
    apiKey: BENCH_API_KEY, answerMs: seconds * 1000 + ANSWER_MARGIN_MS, speedFactor: SPEED_FACTOR, leadMs: options.leadMs ?? DEFAULT_LEAD_MS,
  });
  let child: ServerChild | undefined;
  try {
    const started = await ServerChild.start(kind, generator.modelUrl, otlpUrl);
    child = started.child;
    await generator.connect(`ws://127.0.0.1:${started.port}/twilio/media`, calls);
    child.begin();
    generator.begin(askSpreadMs(calls));
    // The window is a fixed stretch of wall time: this sleep is the measurement, not a synchronisation.
    await sleep(seconds * 1000);
    const load = await generator.end();
    const server = await child.end();
    return { kind, calls, seconds, server, callers: load.callers, fakesCpuPercent: load.cpuPercent, fakesLagP99Ms: load.lagP99Ms, audioHeldMs: load.audioHeldMs };
  } finally {
    await generator.stop().catch(() => generator.kill());
    if (child !== undefined) await child.stop();
  }
}

/** Where in the window a run's lag was (p99 of each second) and what its GC pauses were. */
function lagLine(run: RunResult): string {
  const { lagBySecond, gc } = run.server;
  const seconds = lagBySecond.map((s) => s.p99Ms.toFixed(0)).join(' ');
  return `${run.kind}: lag p99 by second (ms) ${seconds}; GC ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all, longest ${gc.maxMs.toFixed(1)} ms, ${gc.over20Ms} ≥ 20 ms`;
}

/** Things that make a run's figures suspect, in words (empty when the run is clean). */
function warningsOf(run: RunResult): string[] {
  const out: string[] = [];
  const { callers, server } = run;
  if (callers.silentCalls > 0) out.push(`${run.kind}: ${callers.silentCalls} of ${run.calls} calls played no audio`);
  if (callers.closedEarly > 0) out.push(`${run.kind}: ${callers.closedEarly} calls were closed during the window`);
  if (callers.violations > 0) out.push(`${run.kind}: callers saw ${callers.violations} Twilio protocol violations`);
  if (server.liveCalls !== run.calls) out.push(`${run.kind}: the server held ${server.liveCalls} calls at the end, not ${run.calls}`);
  if (run.fakesCpuPercent > 80 || run.fakesLagP99Ms > 20) {
    out.push(`${run.kind}: the load generator was busy or starved (${run.fakesCpuPercent.toFixed(0)} % CPU, lag p99 ${run.fakesLagP99Ms.toFixed(1)} ms): underruns may be its own`);
  }
  return out;
}

/** Runs the gateway, then the naive forwarder, under the same load; prints and saves the comparison. */
export async function run(options: LoadBenchOptions = DEFAULT_LOAD): Promise<void> {
  const t0 = performance.now();
  const gateway = await measure('gateway', options);
  let traced: { run: RunResult; spans: number; receiverErrors: number } | undefined;
  if (options.traced === true) {
    const receiver = await OtlpReceiver.start();
    try {
      const tracedRun = await measure('gateway-traced', options, receiver.url);
      traced = { run: tracedRun, spans: receiver.spans.length, receiverErrors: receiver.errors.length };
    } finally {
      await receiver.close();
    }
  }
  const naive = await measure('naive', options);
  const floors = options.floors === true ? { recv: await measure('floor-recv', options), cadence: await measure('floor-cadence', options) } : undefined;
  const runSeconds = (performance.now() - t0) / 1000;
  printTable(
    `Load: ${options.calls} concurrent calls × ${options.seconds} s, gateway vs naive forwarder (same run)`,
    comparisonRows(gateway, naive),
  );
  if (traced) {
    printTable(`Tracing overhead: gateway traced (always_on, OTLP to a local receiver) vs untraced (same run)`, comparisonRows(traced.run, gateway, { a: 'gateway traced', b: 'gateway', ratio: 'ratio traced ÷ untraced' }));
    const ratioCpu = figuresOf(traced.run).cpuMsPerCallSecond / figuresOf(gateway).cpuMsPerCallSecond;
    console.log(`\ntracing overhead: CPU per call-second ×${ratioCpu.toFixed(3)} (goal ≤ 1.05); ${traced.spans} spans received, ${traced.receiverErrors} receiver errors; loadavg ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
  if (floors) {
    printTable('Floors (same run): receiving alone, and the gateway\'s message cadence with no logic, against the naive forwarder', [
      ...comparisonRows(floors.recv, naive, { a: 'floor: receive only', b: 'naive forwarder', ratio: 'ratio receive-only ÷ naive' }),
      ...comparisonRows(floors.cadence, naive, { a: 'floor: cadence, no logic', b: 'naive forwarder', ratio: 'ratio cadence ÷ naive' }).filter((_, i) => i !== 1),
    ]);
    const f = (run: RunResult): number => figuresOf(run).cpuMsPerCallSecond;
    console.log(`
gateway's logic beyond the cadence floor: ${(f(gateway) - f(floors.cadence)).toFixed(3)} ms CPU per call-second (${((f(gateway) - f(floors.cadence)) / f(naive)).toFixed(3)} × naive); the goal (0.7 × naive) leaves ${(0.7 * f(naive) - f(floors.cadence)).toFixed(3)}`);
  }
  for (const run of [gateway, ...(traced ? [traced.run] : []), naive]) console.log(`\n${lagLine(run)}`);
  // The receive-only floor plays nothing: its silent calls are the point, not a warning.
  const warnings = [...warningsOf(gateway), ...(traced ? warningsOf(traced.run) : []), ...warningsOf(naive), ...(floors ? warningsOf(floors.cadence) : [])];
  for (const warning of warnings) console.log(`\n> warning: ${warning}`);
  console.log(`\nrun time ${runSeconds.toFixed(1)} s; server child run ${COMPILED ? 'from tsc output' : 'under tsx'}`);
  const path = writeResults('load', {
    options,
    speedFactor: SPEED_FACTOR,
    leadMs: options.leadMs ?? DEFAULT_LEAD_MS,
    askSpreadMs: askSpreadMs(options.calls),
    cpus: { server: SERVER_CPU ?? 'any', generator: GENERATOR_CPU ?? 'any' },
    serverRuntime: COMPILED ? 'tsc output (BENCH_LOAD_COMPILED=1)' : 'tsx',
    answerMs: options.seconds * 1000 + ANSWER_MARGIN_MS,
    runSeconds,
    loadavg: loadavg(),
    figures: {
      gateway: figuresOf(gateway), naive: figuresOf(naive),
      ...(traced ? { gatewayTraced: figuresOf(traced.run) } : {}),
      ...(floors ? { floorRecv: figuresOf(floors.recv), floorCadence: figuresOf(floors.cadence) } : {}),
    },
    runs: { gateway, naive, ...(traced ? { gatewayTraced: traced.run } : {}), ...(floors ? { floorRecv: floors.recv, floorCadence: floors.cadence } : {}) },
    ...(traced ? { tracing: { cpuRatio: figuresOf(traced.run).cpuMsPerCallSecond / figuresOf(gateway).cpuMsPerCallSecond, spans: traced.spans } } : {}),
    warnings,
  });
  console.log(`results: ${path}`);
}

/** `--calls N --seconds S --lead-ms L --traced --floors` (any may be left out). */
export function parseArgs(argv: readonly string[]): LoadBenchOptions {
  const values: { calls: number; seconds: number; traced?: boolean; floors?: boolean; leadMs?: number } = { ...DEFAULT_LOAD };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (flag === '--traced' || flag === '--floors') {
      values[flag === '--traced' ? 'traced' : 'floors'] = true;
      i -= 1;
      continue;
    }
    const raw = argv[i + 1];
    const key = flag === '--calls' ? 'calls' : flag === '--seconds' ? 'seconds' : flag === '--lead-ms' ? 'leadMs' : undefined;
    if (key === undefined) throw new Error(`unknown argument ${flag}: use --calls N --seconds S --lead-ms L --traced --floors`);
    values[key] = wholeNumberFlag(flag, raw, LIMITS[key]);
  }
  return values;
}

runWhenMain(import.meta.url, (argv) => run(parseArgs(argv)));
