/** Reconnect delays: exponential with "equal jitter" (half fixed, half random), capped. Pure. */

export interface BackoffOptions {
  /** First delay (ms). Default 250. */
  readonly baseMs?: number;
  /** Largest delay (ms). Default 10 000. */
  readonly maxMs?: number;
}

/** Delay before reconnect attempt `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 10_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(0, attempt), 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
