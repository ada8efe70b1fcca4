/**
 * A call slot is taken at `start` (Twilio) or `hello` (browser), not at the upgrade: this wrapper
 * sits between a caller transport and its session and asks `admit` when the start arrives. A
 * refused start closes the socket with the refusal's close code and never reaches the session,
 * so no model connection is opened for a call the gateway cannot take.
 */
import type { VoicewireError } from '../errors.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transports/transport.js';

/** `undefined` admits the call; an error refuses it (its close code goes to the caller). */
export type Admit = () => VoicewireError | undefined;

export class AdmittedTransport implements CallerTransport {
  readonly kind: CallerTransport['kind'];
  private events: TransportEvents | undefined;

  constructor(
    private readonly inner: CallerTransport,
    private readonly admit: Admit,
    /** Every close of the socket, with its error (for metrics). */
    private readonly onClosed?: (error: VoicewireError | undefined) => void,
  ) {
    this.kind = inner.kind;
  }

  /** Keeps the session's handlers; the inner transport (which queues its events) is attached by `open`. */
  attach(events: TransportEvents): void {
    if (this.events !== undefined) throw new Error('AdmittedTransport.attach called twice');
    this.events = events;
  }

  /** Starts delivering the caller's events, once the session is registered (a start may be queued already). */
  open(): void {
    const events = this.events;
    if (events === undefined) throw new Error('AdmittedTransport.open before attach');
    this.inner.attach({
      ...events,
      start: (info) => {
        const refusal = this.admit();
        if (refusal === undefined) return events.start(info);
        this.inner.close(refusal.closeCode ?? 1013, refusal.code);
      },
      closed: (code, reason, error) => {
        this.onClosed?.(error);
        events.closed(code, reason, error);
      },
    });
  }

  sendAudio(chunk: OutboundAudio): void {
    this.inner.sendAudio(chunk);
  }

  endSentence(epoch: number, sentenceId: number): void {
    this.inner.endSentence(epoch, sentenceId);
  }

  clear(newEpoch: number): void {
    this.inner.clear(newEpoch);
  }

  bufferedAmount(): number {
    return this.inner.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.inner.close(code, reason);
  }
}
