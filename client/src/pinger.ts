/**
 * App-level pings for the round-trip time and liveness: a ping every `everyMs`; a pong sets
 * `rttMs`; `maxUnanswered` pings in a row without a pong declare the connection dead. Timers and
 * the clock are injected so it can be tested without a browser.
 */
export interface PingerOptions {
  readonly everyMs: number;
  readonly maxUnanswered: number;
  send(id: number, t: number): void;
  onDead(): void;
  readonly now?: () => number;
}

/** Pings whose send time is remembered; older ones are forgotten (bounded). */
const MAX_OUTSTANDING = 8;

export class Pinger {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 0;
  private unanswered = 0;
  private readonly sentAt = new Map<number, number>();
  private rtt: number | null = null;
  private readonly now: () => number;

  constructor(private readonly options: PingerOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Round trip of the last answered ping (ms), null before one. */
  get rttMs(): number | null {
    return this.rtt;
  }

  /** Pings now and then every `everyMs` until stopped. */
  start(): void {
    this.stop();
    this.tick();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.unanswered = 0;
    this.sentAt.clear();
  }

  /** A pong: answers every ping up to it (they travel in order). Unknown ids are ignored. */
  onPong(id: number): void {
    const sentAt = this.sentAt.get(id);
    if (sentAt === undefined) return;
    this.sentAt.clear();
    this.unanswered = 0;
    this.rtt = Math.max(0, this.now() - sentAt);
  }

  /** One ping, then the next one armed (a chain of timeouts: stopping never races a running tick). */
  private tick(): void {
    this.timer = undefined;
    if (this.unanswered >= this.options.maxUnanswered) {
      this.stop();
      this.options.onDead();
      return;
    }
    this.nextId = (this.nextId + 1) >>> 0;
    if (this.sentAt.size >= MAX_OUTSTANDING) this.sentAt.delete(this.sentAt.keys().next().value as number);
    const t = this.now();
    this.sentAt.set(this.nextId, t);
    this.unanswered++;
    this.timer = setTimeout(() => this.tick(), this.options.everyMs);
    this.options.send(this.nextId, t);
  }
}
