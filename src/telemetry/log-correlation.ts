/**
 * Trace ids on log lines: a pino mixin that adds `trace_id` and `span_id` to every line of a
 * logger bound to a call (`callSid`). The ids of live traced calls are kept here by call id, so
 * every logger of the call — session, transport, model, watchdog — is covered however it was
 * created. Entries live as long as their call; the map is bounded regardless.
 */
import type { Logger } from 'pino';

export interface TraceIds {
  readonly trace_id: string;
  readonly span_id: string;
}

const MAX_CALLS = 100_000;
const live = new Map<string, TraceIds>();

export const callTraces = {
  set(callId: string, ids: TraceIds): void {
    if (live.size >= MAX_CALLS && !live.has(callId)) return;
    live.set(callId, ids);
  },
  delete(callId: string): void {
    live.delete(callId);
  },
  get(callId: string): TraceIds | undefined {
    return live.get(callId);
  },
  get size(): number {
    return live.size;
  },
};

/**
 * pino `mixin`: the trace ids of the line's call, if it is traced. A fresh object per line: pino's
 * default merge is `Object.assign(mixinResult, lineFields)`, so a shared object returned here
 * would keep every field of every line (one warning's `code` on all later lines).
 */
export function traceMixin(_merge: object, _level: number, logger: Logger): object {
  if (live.size === 0) return {};
  const callId = (logger.bindings() as { callSid?: unknown }).callSid;
  const ids = typeof callId === 'string' ? live.get(callId) : undefined;
  return ids === undefined ? {} : { trace_id: ids.trace_id, span_id: ids.span_id };
}
