/**
 * Messages between the load bench (parent) and the child process that runs the server under test.
 * The server runs alone in its child so that CPU, memory and event-loop lag are its own: the fake
 * callers and the fake model, which cost as much again, stay in the parent.
 */

import type { CallerTotals } from './callers.js';

/**
 * Which server the child runs; `gateway-traced` exports every span (always_on) to an OTLP receiver;
 * `floor-recv` and `floor-cadence` are the lower bounds of bench/floor-forwarder.ts.
 */
export type ServerKind = 'gateway' | 'gateway-traced' | 'naive' | 'floor-recv' | 'floor-cadence';

export const SERVER_KINDS: readonly ServerKind[] = ['gateway', 'gateway-traced', 'naive', 'floor-recv', 'floor-cadence'];

/** The key the fake model expects and the server under test presents. */
export const BENCH_API_KEY = 'bench-key';

export function isServerKind(value: unknown): value is ServerKind {
  return SERVER_KINDS.includes(value as ServerKind);
}

/** Memory of the child at one moment, bytes (process.memoryUsage()). */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  /** V8 heap reserved: grows with the allocation rate (young generation), not only with what is kept. */
  readonly heapTotal: number;
  /** ArrayBuffers and Buffers (audio bytes live here, outside heapUsed). */
  readonly arrayBuffers: number;
}

/** What the child measured over the window between `begin` and `end`. */
export interface ServerMeasurement {
  /** Wall time of the window, ms. */
  readonly wallMs: number;
  /** process.cpuUsage() delta over the window (user + system), ms. */
  readonly cpuMs: number;
  readonly userMs: number;
  readonly systemMs: number;
  /** Event-loop lag percentiles over the window, ms (interval minus the monitor's resolution). */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** Lag p99 and max of each whole second of the window, ms, in order: where in the run the lag was. */
  readonly lagBySecond: readonly { readonly p99Ms: number; readonly maxMs: number }[];
  /** Garbage collections in the window (PerformanceObserver 'gc' entries: the main thread's pauses). */
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number; readonly over20Ms: number };
  /** After start-up with no call, after a forced GC. */
  readonly idle: MemorySample;
  /** At the end of the window, calls still live, before any forced GC. */
  readonly end: MemorySample;
  /** Highest RSS sampled during the window. */
  readonly peakRss: number;
  /** At the end of the window after a forced GC, calls still live: what the calls retain. */
  readonly endAfterGc: MemorySample;
  /** Calls the server held at the end of the window. */
  readonly liveCalls: number;
}

export type ParentMessage = { readonly type: 'begin' } | { readonly type: 'end' } | { readonly type: 'sample' } | { readonly type: 'exit' };

export type ChildMessage =
  | { readonly type: 'ready'; readonly port: number; readonly idle: MemorySample }
  | { readonly type: 'result'; readonly measurement: ServerMeasurement }
  | { readonly type: 'sample'; readonly memory: MemorySample }
  | { readonly type: 'failed'; readonly message: string };

/** What the load generator (generator.ts) reports for the window. */
export interface GeneratorResult {
  readonly callers: CallerTotals;
  /** CPU of the generator process (lean callers + lean model) over the window, % of one core. */
  readonly cpuPercent: number;
  /** Its event-loop lag p99, ms: high values mean the callers' clocks, not the server, starved. */
  readonly lagP99Ms: number;
  /** Model sessions open at the end of the window. */
  readonly modelSessions: number;
  /**
   * Audio the model had sent but the callers had not received at the end of the window, ms, all
   * calls: what the server held (queued; a few ms more in socket buffers).
   */
  readonly audioHeldMs: number;
}

export type ToGeneratorMessage =
  | { readonly type: 'connect'; readonly url: string; readonly calls: number }
  | { readonly type: 'begin'; readonly askSpreadMs: number; readonly askEveryMs?: number }
  | { readonly type: 'end' }
  | { readonly type: 'exit' };

export type GeneratorMessage =
  | { readonly type: 'ready'; readonly modelUrl: string }
  | { readonly type: 'connected' }
  | { readonly type: 'result'; readonly result: GeneratorResult }
  | { readonly type: 'failed'; readonly message: string };
