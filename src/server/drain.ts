/**
 * Draining a replica's calls (SIGTERM): live calls go on until they end by themselves or the
 * deadline passes; then, or at once when `stop` fires (a second signal), every call left is ended
 * with VW_ERR_SHUTDOWN (close 1001) and a logged reason. Pending sockets (no `start` yet) are
 * waited for too: their own START_TIMEOUT_MS bounds them.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { vwError } from '../errors.js';
import type { CallRegistry } from './call-registry.js';

export interface DrainOptions {
  /** How long calls may go on (DRAIN_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Fires to end every call now (a second SIGTERM/SIGINT). */
  readonly stop: AbortSignal;
  readonly logger: Logger;
}

export interface DrainReport {
  /** Calls (live and pending) when the drain began. */
  readonly callsAtStart: number;
  /** Calls we ended at the deadline or on `stop`; the others ended by themselves. */
  readonly endedByUs: number;
  /** Why the drain ended: every call finished, the deadline passed, or a stop. */
  readonly outcome: 'calls-finished' | 'deadline' | 'stopped';
  readonly durationMs: number;
}

/** Waits for `calls` to empty, within `timeoutMs` or until `stop`; then ends the rest (1001). */
export async function drainCalls(calls: CallRegistry, options: DrainOptions): Promise<DrainReport> {
  const startedAt = performance.now();
  const callsAtStart = calls.size + calls.pendingSize;
  const timeUp = new AbortController();
  const deadline = AbortSignal.any([timeUp.signal, options.stop]);
  const outcome = await Promise.race([
    calls.whenEmpty().then(() => 'calls-finished' as const),
    delay(options.timeoutMs, undefined, { signal: deadline }).then(
      () => 'deadline' as const,
      () => (options.stop.aborted ? ('stopped' as const) : ('calls-finished' as const)),
    ),
  ]);
  timeUp.abort(); // the delay's timer must not keep the process alive
  let endedByUs = 0;
  if (outcome !== 'calls-finished' || calls.size + calls.pendingSize > 0) {
    const reason = outcome === 'stopped' ? 'stopped by a second signal' : `DRAIN_TIMEOUT_MS of ${options.timeoutMs} ms passed`;
    endedByUs = calls.size + calls.pendingSize;
    options.logger.warn({ code: 'VW_ERR_SHUTDOWN', calls: endedByUs, reason }, 'drain: ending the calls that are left');
    await calls.closeAll(vwError('VW_ERR_SHUTDOWN', reason));
  }
  return { callsAtStart, endedByUs, outcome: endedByUs > 0 ? outcome : 'calls-finished', durationMs: performance.now() - startedAt };
}
