/**
 * Waiting helpers for the cascade: every wait here ends, by its deadline or by its AbortSignal
 * (house style 9). Rejections are coded: VW_ERR_DEADLINE for a passed deadline; an aborted signal
 * rejects with the signal's reason (the pipeline aborts with a VW_ERR_ABORTED error).
 */
import { isVoicewireError, vwError, type VoicewireError } from '../../errors.js';

/** The reason to reject with when `signal` aborted: its reason when it is an Error, else VW_ERR_ABORTED. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : vwError('VW_ERR_ABORTED', typeof reason === 'string' ? reason : 'signal aborted');
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, unless `timeoutMs` passes first (VW_ERR_DEADLINE naming `what`) or the
 * signal aborts (its reason). The underlying promise is not cancelled: callers pass a signal to
 * whatever produced it when it can be cancelled.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(onTimeout, Math.max(0, timeoutMs));
    function cleanup(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    function onTimeout(): void {
      cleanup();
      reject(vwError('VW_ERR_DEADLINE', Math.round(timeoutMs), what));
    }
    function onAbort(): void {
      cleanup();
      reject(abortReason(signal as AbortSignal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** An AbortError-like coded reason for aborting a pipeline. */
export function abortedError(reason: string): VoicewireError {
  return vwError('VW_ERR_ABORTED', reason);
}

/**
 * The flow's waiters end a wait cut short by a signal with VW_ERR_ABORTED (cause: the signal's
 * reason); the cascade's waits have always rejected with the reason itself ({@link abortReason}),
 * which the pipeline passes along. Other failures (deadline, queue abort, close) are kept.
 */
export function signalReasonFor(err: unknown, signal: AbortSignal | undefined): unknown {
  const bySignal = signal?.aborted === true && isVoicewireError(err, 'VW_ERR_ABORTED') && err.cause === signal.reason;
  return bySignal ? abortReason(signal) : err;
}
