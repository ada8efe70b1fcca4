/**
 * The figures of the load bench, from raw measurements to table rows: per-call normalisation and the
 * gateway ÷ naive ratios. Pure functions, no I/O.
 */
import type { Row } from '../report.js';
import type { CallerTotals } from './callers.js';
import type { ServerKind, ServerMeasurement } from './protocol.js';

/** One server's run: what its child measured, what the callers felt, and the fakes' own load. */
export interface RunResult {
  readonly kind: ServerKind;
  readonly calls: number;
  readonly seconds: number;
  readonly server: ServerMeasurement;
  readonly callers: CallerTotals;
  /** CPU of the parent (fake callers + fake model) over the window, % of one core. */
  readonly fakesCpuPercent: number;
  /** Event-loop lag p99 of the generator, ms: high values mean the callers' clocks, not the server, starved. */
  readonly fakesLagP99Ms: number;
  /** Model audio the server held (sent by the model, not yet at the callers) at the end, ms, all calls. */
  readonly audioHeldMs: number;
}

/** The headline figures of one run, each normalised so runs of different N compare. */
export interface Figures {
  /** Server CPU per second of call: cpu ms ÷ (N × window seconds). */
  readonly cpuMsPerCallSecond: number;
  /** Its user part (JavaScript, GC, the runtime): user ms ÷ (N × window seconds). */
  readonly userMsPerCallSecond: number;
  /** Its system part (syscalls: socket reads and writes, timers): system ms ÷ (N × window seconds). */
  readonly systemMsPerCallSecond: number;
  /** (RSS with calls − RSS idle) ÷ N, KiB. */
  readonly rssPerCallKiB: number;
  /** (heap used with calls − idle), both after a forced GC, ÷ N, KiB. */
  readonly heapPerCallKiB: number;
  /** The same for ArrayBuffers (Buffers and typed arrays: audio bytes live there, outside the heap), KiB. */
  readonly arrayBuffersPerCallKiB: number;
  /** Model audio the server held per call at the end of the window (μ-law, 8 bytes per ms), KiB. */
  readonly audioHeldPerCallKiB: number;
  /** heap per call ÷ audio held per call (goal ≤ 1.5). */
  readonly heapPerAudioHeld: number;
  readonly lagP99Ms: number;
  readonly underruns: number;
  readonly underrunMs: number;
  readonly maxBufferedMs: number;
  readonly medianMaxBufferedMs: number;
  readonly playedSecondsPerCall: number;
  /** Messages the server sent each caller per second (Twilio media + mark + clear). */
  readonly messagesPerCallSecond: number;
}

export function figuresOf(run: RunResult): Figures {
  const { server, callers, calls } = run;
  const callSeconds = (calls * server.wallMs) / 1000;
  const heapKiB = (server.endAfterGc.heapUsed - server.idle.heapUsed) / calls / 1024;
  const heldKiB = (run.audioHeldMs * 8) / calls / 1024;
  return {
    cpuMsPerCallSecond: server.cpuMs / callSeconds,
    userMsPerCallSecond: server.userMs / callSeconds,
    systemMsPerCallSecond: server.systemMs / callSeconds,
    rssPerCallKiB: (server.end.rss - server.idle.rss) / calls / 1024,
    heapPerCallKiB: heapKiB,
    arrayBuffersPerCallKiB: (server.endAfterGc.arrayBuffers - server.idle.arrayBuffers) / calls / 1024,
    audioHeldPerCallKiB: heldKiB,
    heapPerAudioHeld: heldKiB > 0 ? heapKiB / heldKiB : Number.NaN,
    lagP99Ms: server.lagP99Ms,
    underruns: callers.underruns,
    underrunMs: callers.underrunMs,
    maxBufferedMs: callers.maxBufferedMs,
    medianMaxBufferedMs: callers.medianMaxBufferedMs,
    playedSecondsPerCall: callers.meanPlayedMs / 1000,
    messagesPerCallSecond: callers.messagesPerCallSecond,
  };
}

/** `a ÷ b`, or a word when the quotient means nothing (0 ÷ 0, x ÷ 0). */
export function ratio(a: number, b: number): number | string {
  if (b === 0) return a === 0 ? 'n/a (both 0)' : '∞ (naive 0)';
  return a / b;
}

const COLUMNS = {
  cpuMsPerCallSecond: 'CPU ms / call-s',
  userMsPerCallSecond: 'user ms / call-s',
  systemMsPerCallSecond: 'sys ms / call-s',
  rssPerCallKiB: 'RSS / call (KiB)',
  heapPerCallKiB: 'heap / call (KiB)',
  arrayBuffersPerCallKiB: 'ArrayBuffers / call (KiB)',
  audioHeldPerCallKiB: 'audio held / call (KiB)',
  heapPerAudioHeld: 'heap ÷ audio held',
  lagP99Ms: 'loop lag p99 (ms)',
  underruns: 'underruns',
  underrunMs: 'underrun ms',
  maxBufferedMs: 'max buffered at caller (ms)',
  medianMaxBufferedMs: 'median per-call max buffered (ms)',
  playedSecondsPerCall: 'played s / call',
  messagesPerCallSecond: 'msgs to caller / call-s',
} as const satisfies Record<keyof Figures, string>;

/** Counts print as whole numbers (printTable would show 3 as "3.00"). */
const COUNTS: ReadonlySet<keyof Figures> = new Set(['underruns']);

function row(label: string, value: (key: keyof Figures) => number | string, fakes: Row): Row {
  const out: Row = { server: label };
  for (const key of Object.keys(COLUMNS) as (keyof Figures)[]) {
    const v = value(key);
    out[COLUMNS[key]] = COUNTS.has(key) && typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
  }
  return { ...out, ...fakes };
}

function fakesColumns(run: RunResult): Row {
  return { 'generator CPU %': run.fakesCpuPercent, 'generator lag p99 (ms)': run.fakesLagP99Ms };
}

/** Rows A, B and A ÷ B, for printTable (default names: gateway and the naive forwarder). */
export function comparisonRows(gateway: RunResult, naive: RunResult, names = { a: 'gateway', b: 'naive forwarder', ratio: 'ratio gateway ÷ naive' }): Row[] {
  const g = figuresOf(gateway);
  const n = figuresOf(naive);
  return [
    row(names.a, (k) => g[k], fakesColumns(gateway)),
    row(names.b, (k) => n[k], fakesColumns(naive)),
    row(names.ratio, (k) => ratio(g[k], n[k]), { 'generator CPU %': '—', 'generator lag p99 (ms)': '—' }),
  ];
}
