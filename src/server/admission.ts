/**
 * A call slot is taken at `start` (Twilio) or `hello` (browser), not at the upgrade: this wrapper
 * sits between a caller transport and its session and asks `admit` when the start arrives. A
 * refused start closes the socket with the refusal's close code and never reaches the session,
 * so no model connection is opened for a call the gateway cannot take.
 */
import type { VoicewireError } from '../errors.js';
import type { CallerTransport, CallStart, OutboundAudio, TransportEvents } from '../transports/transport.js';

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
    this.inner.attach(new AdmittingEvents(this, events));
  }

  /** @internal The caller's start arrived: admitted (undefined) or refused and closed. */
  refuses(): boolean {
    const refusal = this.admit();
    if (refusal === undefined) return false;
    this.inner.close(refusal.closeCode ?? 1013, refusal.code);
    return true;
  }

  /** @internal */
  closedWith(error: VoicewireError | undefined): void {
    this.onClosed?.(error);
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

/**
 * The session's handlers behind the admission check. Delegates method by method (the session's
 * handlers are a class: spreading them would copy no methods); one per call, so a class too.
 */
class AdmittingEvents implements TransportEvents {
  constructor(
    private readonly transport: AdmittedTransport,
    private readonly events: TransportEvents,
  ) {}

  start(info: CallStart): void {
    if (!this.transport.refuses()) this.events.start(info);
  }
  audio(bytes: Uint8Array, durationMs: number): void {
    this.events.audio(bytes, durationMs);
  }
  played(epoch: number, playedMs: number): void {
    this.events.played(epoch, playedMs);
  }
  echoAfterClear(epoch: number, playedMs: number): void {
    this.events.echoAfterClear?.(epoch, playedMs);
  }
  sentencePlayed(epoch: number, sentenceId: number): void {
    this.events.sentencePlayed(epoch, sentenceId);
  }
  dtmf(digit: string): void {
    this.events.dtmf(digit);
  }
  badInput(error: VoicewireError): void {
    this.events.badInput(error);
  }
  closed(code: number, reason: string, error?: VoicewireError): void {
    this.transport.closedWith(error);
    this.events.closed(code, reason, error);
  }
}
