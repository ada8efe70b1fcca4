/**
 * Per-call setup at call start: the CALL_SETUP_URL webhook or the library's `setupCall` function,
 * under one deadline. Whatever goes wrong — timeout, non-200, oversized or invalid answer, a
 * throwing function — the call goes on with the defaults and the outcome says why (the caller logs
 * it with VW_ERR_SETUP_FAILED and counts it); only a valid `{"reject": true}` ends a call.
 */
import { checkSetup, type CallSetup, type CallSetupRequest } from './call-setup.js';
import { postJson } from './http-post.js';
import { httpAttributes, startCallSpan } from '../telemetry/stage-tracing.js';

/**
 * The library API's setup hook: the webhook's answer as a value (validated like the webhook's),
 * or undefined for the defaults. `signal` aborts at the deadline.
 */
export type SetupCallFunction = (request: CallSetupRequest, signal: AbortSignal) => unknown;

/** Where a call's setup comes from. */
export type SetupSource =
  | { readonly kind: 'webhook'; readonly url: string }
  | { readonly kind: 'function'; readonly setupCall: SetupCallFunction };

export type SetupOutcome = 'applied' | 'timeout' | 'network' | 'status' | 'too-large' | 'invalid-json' | 'invalid' | 'threw' | 'aborted';

export interface ResolvedSetup {
  /** `{}` (the defaults) unless `outcome` is 'applied'. */
  readonly setup: CallSetup;
  readonly outcome: SetupOutcome;
  /** Why it failed (a field path, a status, an exception message). */
  readonly detail?: string;
  readonly durationMs: number;
}

export const DEFAULT_SETUP_TIMEOUT_MS = 3_000;

/** Asks `source` for the call's setup; never rejects. */
export async function resolveSetup(
  source: SetupSource,
  request: CallSetupRequest,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal; readonly now?: () => number },
): Promise<ResolvedSetup> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const done = (outcome: SetupOutcome, setup: CallSetup = {}, detail?: string): ResolvedSetup => ({
    setup, outcome, durationMs: now() - startedAt, ...(detail === undefined ? {} : { detail }),
  });
  let answer: unknown;
  if (source.kind === 'webhook') {
    // The webhook's request carries the call's traceparent (the call span starts before setup).
    const span = startCallSpan(request.callId, 'voicewire.setup', httpAttributes(source.url));
    const outcome = await postJson(source.url, request, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(span ? { headers: span.headers } : {}),
    });
    span?.end(outcome.ok ? undefined : outcome.failure);
    if (!outcome.ok) return done(outcome.failure, {}, outcome.detail);
    answer = outcome.json;
  } else {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    const settled = await settleBefore(signal, () => source.setupCall(request, signal));
    if (settled.kind === 'aborted') return done(deadline.aborted ? 'timeout' : 'aborted', {}, `no setup within ${options.timeoutMs} ms`);
    if (settled.kind === 'threw') return done('threw', {}, settled.detail);
    if (settled.value === undefined) return done('applied');
    answer = settled.value;
  }
  const checked = checkSetup(answer);
  if (!checked.ok) return done('invalid', {}, checked.path);
  return done('applied', checked.value);
}

type Settled = { readonly kind: 'value'; readonly value: unknown } | { readonly kind: 'threw'; readonly detail: string } | { readonly kind: 'aborted' };

/** Runs `fn` and races it against `signal`: a hook that ignores its signal cannot hold the call. */
function settleBefore(signal: AbortSignal, fn: () => unknown): Promise<Settled> {
  if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
  return new Promise<Settled>((resolve) => {
    const onAbort = (): void => resolve({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(fn)
      .then(
        (value) => resolve({ kind: 'value', value }),
        (err: unknown) => resolve({ kind: 'threw', detail: err instanceof Error ? err.message : String(err) }),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
