/** A provider's application-level keep-alive (Deepgram `KeepAlive`), sent while the link is open. */

export interface KeepAlive {
  readonly everyMs: number;
  /** The text frame to send (Deepgram `{"type":"KeepAlive"}`). */
  readonly message: string;
}

export class KeepAliveTimer {
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(
    private readonly keepAlive: KeepAlive,
    /** Sends on the open, configured socket; false when not sent. */
    private readonly send: (text: string) => boolean,
  ) {}

  get sent(): number {
    return this.count;
  }

  start(): void {
    if (this.keepAlive.everyMs <= 0) return;
    this.stop();
    this.timer = setInterval(() => {
      if (this.send(this.keepAlive.message)) this.count++;
    }, this.keepAlive.everyMs);
    // Never keeps the process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
