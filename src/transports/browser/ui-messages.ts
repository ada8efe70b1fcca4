/**
 * The browser session's UI channel: `state`, `transcript` and `stats` messages for the client's
 * readouts, and the application-level `ping` whose `pong` measures the round trip. None of these
 * touch the audio or its epochs, so they live apart from the adapter's audio path.
 */
import type { ConversationState, ServerMessage, StatsMessage, TranscriptRole } from './codec.js';
import { splitTranscript } from './transcript.js';

/** Extra fields the session may fill in a `stats` message (the type is set here). */
export type BrowserStats = Omit<StatsMessage, 'type'>;

/** What the UI channel needs from its transport. */
export interface UiChannelHost {
  /** True when messages may be sent now; otherwise the host counts a dropped send. */
  readonly isReady: (action: string) => boolean;
  /** Sends a control message; never throws. */
  readonly send: (message: ServerMessage) => boolean;
  readonly now: () => number;
}

const U32_MAX = 0xffffffff;

function finiteOr(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.max(0, value);
}

/** A `stats` message with every figure finite and non-negative; optional figures are left out when unknown. */
export function statsMessage(stats: BrowserStats, rtt: number | undefined): StatsMessage {
  const message: { -readonly [K in keyof StatsMessage]: StatsMessage[K] } = {
    type: 'stats',
    creditMs: finiteOr(stats.creditMs) ?? 0,
    windowMs: finiteOr(stats.windowMs) ?? 0,
    serverBufferedMs: finiteOr(stats.serverBufferedMs) ?? 0,
  };
  const inFlightMs = finiteOr(stats.inFlightMs);
  if (inFlightMs !== undefined) message.inFlightMs = inFlightMs;
  const lastBargeInMs = finiteOr(stats.lastBargeInMs);
  if (lastBargeInMs !== undefined) message.lastBargeInMs = lastBargeInMs;
  const rttMs = finiteOr(stats.rttMs ?? rtt);
  if (rttMs !== undefined) message.rttMs = rttMs;
  return message;
}

/** UI messages and the RTT probe of one browser session (bounded state: one outstanding ping). */
export class UiChannel {
  private readonly host: UiChannelHost;
  private pingId = 0;
  private pingSentAt: number | undefined;
  private rtt: number | undefined;

  constructor(host: UiChannelHost) {
    this.host = host;
  }

  /** Round trip of the last answered `ping()` (ms), undefined before one. */
  get rttMs(): number | undefined {
    return this.rtt;
  }

  /** `state` for the client's UI (listening / thinking / speaking). */
  sendState(state: ConversationState): void {
    if (this.host.isReady('state')) this.host.send({ type: 'state', state });
  }

  /** `transcript` pieces (long text is split so each message stays under the 4 KiB bound). */
  sendTranscript(role: TranscriptRole, text: string, final: boolean): void {
    if (!this.host.isReady('transcript')) return;
    const pieces = splitTranscript(text);
    pieces.forEach((piece, i) => this.host.send({ type: 'transcript', role, text: piece, final: final && i === pieces.length - 1 }));
  }

  /** `stats` for the client's readouts; `rttMs` defaults to this channel's own measurement. */
  sendStats(stats: BrowserStats): void {
    if (this.host.isReady('stats')) this.host.send(statsMessage(stats, this.rtt));
  }

  /** Sends a `ping`; only the answer to the latest one counts. */
  ping(): void {
    if (!this.host.isReady('ping')) return;
    this.pingId = (this.pingId + 1) % (U32_MAX + 1);
    this.pingSentAt = this.host.now();
    this.host.send({ type: 'ping', id: this.pingId, t: this.pingSentAt });
  }

  /** The client's `pong`: sets the RTT when it answers the outstanding ping. */
  onPong(id: number): void {
    if (id !== this.pingId || this.pingSentAt === undefined) return;
    this.rtt = Math.max(0, this.host.now() - this.pingSentAt);
    this.pingSentAt = undefined;
  }
}
