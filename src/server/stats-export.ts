/**
 * The figures transports and model clients already count per call (`stats()` of the carrier
 * adapters, `stats` of the model sessions: marks, clears, echoes, stale sends, dropped input,
 * malformed events, reconnects…), added to Prometheus counters when the call ends. Only numeric
 * fields are taken; the label values are field names fixed in code, so the label set is bounded.
 */
import type { Counter } from 'prom-client';

/** Most distinct fields taken from one stats object (a guard, not a limit any adapter reaches). */
const MAX_FIELDS = 32;

/** The numeric fields of `stats` (a plain object), or none. */
export function numericFields(stats: unknown): Array<[string, number]> {
  if (typeof stats !== 'object' || stats === null) return [];
  const out: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) out.push([key, value]);
    if (out.length >= MAX_FIELDS) break;
  }
  return out;
}

/** Adds a finished call's stats to `counter` under `labels` + `{ stat }`. */
export function exportStats(counter: Counter<string>, labels: Record<string, string>, stats: unknown): void {
  for (const [stat, value] of numericFields(stats)) counter.inc({ ...labels, stat }, value);
}

/** `stats()` (adapters) or `stats` (model sessions) of `source`, if it has one. */
export function readStats(source: unknown): unknown {
  if (typeof source !== 'object' || source === null || !('stats' in source)) return undefined;
  const stats = (source).stats;
  return typeof stats === 'function' ? (stats as () => unknown).call(source) : stats;
}
