/**
 * Where a barge-in's stale audio goes, on the gateway's side of the netimpair runs: wraps the
 * gateway's model sessions to stamp, on the machine's wall clock (performance.timeOrigin + now,
 * shared by the namespaces' processes), when the gateway received the caller's first loud frame
 * of a speech run, when the model's `speechStarted` reached the gateway (none yet when the
 * gateway's own VAD interrupted, LOCAL_BARGE_IN_MS), and when the gateway interrupted the model — synchronously right after it wrote the `clear` (session/call-session.ts
 * bargeIn). The fake model's own VAD time comes from its log. Bench instrumentation only.
 * Since local barge-in holds the answer until the model's speech start confirms it, the model is
 * interrupted at that confirmation, well after the clear: its stamps do not date the clear.
 */
import { performance } from 'node:perf_hooks';
import { mulawDecodeSample } from '../../../src/audio/mulaw.js';
import type { ModelEvents, ModelFactory, ModelSession } from '../../../src/models/model.js';

/** Mean |sample| of a μ-law frame above this is "loud" (the caller's tone is ~8 000; silence ~0). */
const LOUD_MEAN_ABS = 1_000;

/** Wall-clock ms with performance.now()'s resolution, comparable across this machine's processes. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The gateway's stamps for one barge-in (wall-clock ms). */
export interface GatewayBargeInStamps {
  /** The first loud caller frame of the speech run that the barge-in answered. */
  readonly loudAt: number | undefined;
  /** The model's speechStarted reached the session (undefined: the gateway's own VAD interrupted first). */
  readonly speechStartedAt: number | undefined;
  /** The session interrupted the model: right after writing the clear. */
  readonly clearWrittenAt: number;
}

function isLoud(bytes: Uint8Array): boolean {
  let sum = 0;
  for (const code of bytes) sum += Math.abs(mulawDecodeSample(code));
  return bytes.length > 0 && sum / bytes.length > LOUD_MEAN_ABS;
}

/** Wraps `inner` so every model session reports its barge-ins' stamps to `report`. */
export function timedModelFactory(inner: ModelFactory, report: (stamps: GatewayBargeInStamps) => void): ModelFactory {
  return (options) => {
    const session = inner(options);
    let loud = false;
    let loudAt: number | undefined;
    let speechStartedAt: number | undefined;
    return new Proxy(session, {
      get(target, key, receiver) {
        if (key === 'appendAudio') {
          return (bytes: Uint8Array, durationMs: number): void => {
            const now = isLoud(bytes);
            if (now && !loud) {
              loudAt = wallNow();
              speechStartedAt = undefined; // a speech start before this run answered an earlier one
            }
            loud = now;
            target.appendAudio(bytes, durationMs);
          };
        }
        if (key === 'attach') {
          return (events: ModelEvents): void => {
            target.attach(new Proxy(events, {
              get(inner, name, r) {
                if (name === 'speechStarted') {
                  return (): void => {
                    speechStartedAt = wallNow();
                    inner.speechStarted();
                  };
                }
                return Reflect.get(inner, name, r) as unknown;
              },
            }));
          };
        }
        if (key === 'interrupt') {
          return (heard: Parameters<ModelSession['interrupt']>[0]): void => {
            const clearWrittenAt = wallNow();
            target.interrupt(heard);
            // The model's speech start, or the gateway's own VAD during the loud run (LOCAL_BARGE_IN_MS).
            if (speechStartedAt !== undefined || loud) report({ loudAt, speechStartedAt, clearWrittenAt });
            speechStartedAt = undefined;
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}
