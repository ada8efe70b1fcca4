/**
 * Small helpers shared by the flow tests.
 *
 * Note: always give `assert.ok` a message. Without one, node re-parses the (tsx-transformed) source
 * to describe the failing expression, which can spin for minutes inside fast-check's shrinking.
 */
import assert from 'node:assert/strict';
import { isVoicewireError, type ErrorCode } from '../../src/errors.js';

/** Asserts that `action` (a promise or a function) fails with the VoicewireError `code`. */
export async function rejectsWithCode(action: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<void> {
  await assert.rejects(
    typeof action === 'function' ? async () => action() : action,
    (err: unknown) => {
      assert.ok(isVoicewireError(err, code), `expected ${code}, got ${String(err)}`);
      return true;
    },
  );
}

/** Asserts that the synchronous `action` throws the VoicewireError `code`. */
export function throwsWithCode(action: () => unknown, code: ErrorCode): void {
  assert.throws(action, (err: unknown) => {
    assert.ok(isVoicewireError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

export type PromiseState = 'pending' | 'fulfilled' | 'rejected';

/**
 * The state of `promise` once every queued microtask has run (one macrotask turn). Used only to
 * assert that something has NOT happened; positive outcomes are awaited directly.
 */
export async function stateOf(promise: Promise<unknown>): Promise<PromiseState> {
  let state: PromiseState = 'pending';
  promise.then(
    () => (state = 'fulfilled'),
    () => (state = 'rejected'),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return state;
}

/** Number of live timers in the process (to prove a wait left none behind). */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}
