/**
 * Whether the server VAD creates the answer to a committed turn (`turn_detection.create_response`),
 * tracked across the `session.update`s that turn it off around a barge-in (client.ts).
 *
 * Normally the server creates answers itself (no extra round trip per turn). While a barge-in's
 * truncate is pending the client turns that off so no answer can start from a conversation that
 * still holds speech the caller never heard, and turns it back on once the truncate is out. The
 * server answers every `session.update` with `session.updated` in order (that event does not carry
 * our event_id), so the mode a `committed` ran under is the mode of the last `session.updated`
 * seen before it: a turn committed while auto-create was off is the client's to answer.
 */

/** A turn_detection update sent and not yet answered. */
interface InFlight {
  readonly eventId: string;
  readonly createResponse: boolean;
}

/** Updates in flight at once: each barge-in sends at most two, and a barge-in takes a caller round trip. */
const MAX_IN_FLIGHT = 16;

export class AutoCreateMode {
  /** The mode the server applies to a commit now (as of the last `session.updated`). */
  private serverMode: boolean;
  /** The mode last asked for. */
  private wanted: boolean;
  private readonly inFlight: InFlight[] = [];

  /** `configured`: the turn_detection.create_response the session was configured with. */
  constructor(private readonly configured: boolean) {
    this.serverMode = configured;
    this.wanted = configured;
  }

  /** True when a committed turn is answered by the server; false when the client must create it. */
  get serverCreates(): boolean {
    return this.serverMode;
  }

  /** True while auto-create is turned off (or being turned off) for a pending truncate. */
  get held(): boolean {
    return this.configured && !this.wanted;
  }

  /** A new socket, configured as set: nothing in flight. */
  reset(): void {
    this.serverMode = this.configured;
    this.wanted = this.configured;
    this.inFlight.length = 0;
  }

  /** Whether a barge-in must turn auto-create off (configured on and not off already). */
  needsHold(): boolean {
    return this.configured && this.wanted && this.inFlight.length < MAX_IN_FLIGHT;
  }

  /** Whether auto-create was turned off and must be turned back on. */
  needsRelease(): boolean {
    return this.held;
  }

  /** A turn_detection update with `createResponse` went out as `eventId`. */
  sent(eventId: string, createResponse: boolean): void {
    this.wanted = createResponse;
    this.inFlight.push({ eventId, createResponse });
  }

  /** A `session.updated` after the handshake: the oldest update in flight is in effect. */
  updated(): void {
    const applied = this.inFlight.shift();
    if (applied !== undefined) this.serverMode = applied.createResponse;
  }

  /** An `error` for one of our updates: it never took effect. Returns true when it was one. */
  rejected(eventId: string): boolean {
    const index = this.inFlight.findIndex((update) => update.eventId === eventId);
    if (index < 0) return false;
    this.inFlight.splice(index, 1);
    return true;
  }
}
