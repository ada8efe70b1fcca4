/**
 * CallerTransport over a Twilio Media Streams WebSocket (server side of a `ws` connection).
 *
 * Inbound: each text frame goes through the pure codec; malformed input is reported as `badInput`
 * with its code and the connection lives on, up to `maxBadInputs` per call. Outbound: model audio
 * becomes `media` messages, with a `mark` after every `markEveryMs` of audio (media messages are
 * split at those boundaries, so marks are never further apart than that) and one at each sentence
 * end. Mark names carry epoch, a per-connection sequence number and the cumulative position
 * (marks.ts, mark-ledger.ts), so an echo is judged on its own: echoes of marks sent before a
 * `clear` — which Twilio flushes all at once without playing — are recognised by their sequence
 * number and never count as played; neither do echoes that cross the clear on the wire (a
 * conservative loss of at most one mark interval).
 *
 * `played(epoch, ms)` is raised for every confirmation not invalidated by a clear, including those
 * of an older epoch that ended without a clear (its tail still plays): sessions compare the epoch.
 * Heartbeats and bufferedAmount watching belong to the server's ConnectionWatch.
 */
import type { RawData, WebSocket } from 'ws';
import { TWILIO_FORMAT, bytesPerMs } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawLength, rawText, type LinkMoves, type TransportLogger } from '../socket-link.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, parseTwilioMessage, serializeClear, serializeMark, serializeMedia } from './codec.js';
import { MarkLedger } from './mark-ledger.js';
import type { TwilioInbound, TwilioMarkEcho } from './messages.js';

export type { TransportLogger } from '../socket-link.js';

export interface TwilioTransportOptions {
  readonly logger?: TransportLogger;
  /** Longest stretch of audio between two marks (ms). Default 200. */
  readonly markEveryMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Largest inbound media payload (bytes). Default 8000 (1 s). */
  readonly maxPayloadBytes?: number;
  /** A stream that sends no `start` within this time is closed with VW_ERR_START_TIMEOUT (4020). Default 5000. */
  readonly startTimeoutMs?: number;
}

/** Counters for tests and metrics; all are plain numbers (bounded state). */
export interface TwilioTransportStats {
  badInputs: number;
  mediaSent: number;
  bytesSent: number;
  marksSent: number;
  clearsSent: number;
  /** Echoes of our marks that confirmed playback. */
  echoesTrusted: number;
  /** Echoes of marks sent before a clear (flushed, not played). */
  echoesFlushed: number;
  /** Echoes whose name is not ours, or that we never sent. */
  echoesUnknown: number;
  /** Audio or sentence ends of an epoch older than the current one, dropped. */
  staleSends: number;
  /** Messages not sent because the stream had not started or had ended. */
  sendsDropped: number;
}

/** Phases of a stream before it closes: `start` moves it to streaming (SocketLink adds 'closed'). */
type TwilioPhase = 'awaiting-start' | 'streaming';
const MOVES: LinkMoves<TwilioPhase> = { 'awaiting-start': ['streaming'], streaming: [] };

/** Unknown mark echoes logged at warn per call; later ones at debug. */
const MAX_WARNED_UNKNOWN_ECHOES = 10;

export class TwilioTransport implements CallerTransport {
  readonly kind = 'twilio' as const;
  /** The socket, its state, pending events, sends, closing and bad-input accounting. */
  private readonly link: SocketLink<TwilioPhase>;
  private sid: string | undefined;
  private callSid: string | undefined;
  private readonly log: TransportLogger;
  /** Reused for every inbound payload: `audio` handlers get a view of it. */
  private readonly media: Uint8Array;
  /** Closes a stream that never sends `start`, so it cannot hold a socket (and memory) forever. */
  private startTimer: NodeJS.Timeout | undefined;

  private readonly ledger: MarkLedger;
  /** The link counts `badInputs` and `sendsDropped`. */
  private readonly counters: Omit<TwilioTransportStats, 'badInputs' | 'sendsDropped'> = {
    mediaSent: 0,
    bytesSent: 0,
    marksSent: 0,
    clearsSent: 0,
    echoesTrusted: 0,
    echoesFlushed: 0,
    echoesUnknown: 0,
    staleSends: 0,
  };

  /**
   * Takes over `ws` (an open server-side socket). Reading is paused until `attach`, so no event is
   * lost if the session attaches a little later; the few that ws may still deliver are queued.
   */
  constructor(ws: WebSocket, options: TwilioTransportOptions = {}) {
    const markEveryMs = options.markEveryMs ?? 200;
    if (!(markEveryMs > 0)) throw new RangeError(`markEveryMs must be > 0 (got ${markEveryMs})`);
    this.ledger = new MarkLedger(Math.max(1, Math.round(markEveryMs * bytesPerMs(TWILIO_FORMAT))), bytesPerMs(TWILIO_FORMAT));
    this.media = new Uint8Array(options.maxPayloadBytes ?? MAX_MEDIA_PAYLOAD_BYTES);
    this.log = options.logger ?? NOOP_LOGGER;
    this.link = new SocketLink(ws, {
      label: 'twilio',
      owner: 'TwilioTransport',
      initial: 'awaiting-start',
      moves: MOVES,
      logger: this.log,
      logContext: () => ({ streamSid: this.sid }),
      maxBadInputs: options.maxBadInputs,
      failReason: 'message',
      onMessage: (data, isBinary) => this.handleMessage(data, isBinary),
      onClosing: () => this.stopStartTimer(),
    });
    const startTimeoutMs = options.startTimeoutMs ?? 5_000;
    this.startTimer = setTimeout(() => this.onStartTimeout(startTimeoutMs), startTimeoutMs);
    this.startTimer.unref();
  }

  private onStartTimeout(timeoutMs: number): void {
    this.startTimer = undefined;
    if (this.link.state === 'awaiting-start') this.link.fail(vwError('VW_ERR_START_TIMEOUT', timeoutMs));
  }

  private stopStartTimer(): void {
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    this.startTimer = undefined;
  }

  /** The streamSid from `start` (undefined before it). */
  get streamSid(): string | undefined {
    return this.sid;
  }

  /** The epoch whose audio is being sent. */
  get currentEpoch(): number {
    return this.ledger.epoch;
  }

  stats(): Readonly<TwilioTransportStats> {
    return { badInputs: this.link.badInputs, ...this.counters, sendsDropped: this.link.sendsDropped };
  }

  attach(events: TransportEvents): void {
    this.link.attach(events);
  }

  /**
   * Sends `chunk.bytes` as `media` messages, split only where a mark falls (every `markEveryMs`
   * of the epoch's audio), each followed by that mark. Audio of an epoch older than the current
   * one is dropped; a newer epoch starts its positions at 0 (after a closing mark for the old one).
   */
  sendAudio(chunk: OutboundAudio): void {
    const streamSid = this.streamingSid('sendAudio');
    if (streamSid === undefined || !this.enterEpoch(chunk.epoch)) return;
    const bytes = chunk.bytes;
    let offset = 0;
    while (offset < bytes.length) {
      const end = Math.min(bytes.length, offset + this.ledger.roomBeforeMark());
      if (!this.link.send(serializeMedia(streamSid, bytes, offset, end))) return;
      this.counters.mediaSent++;
      this.counters.bytesSent += end - offset;
      const mark = this.ledger.sent(end - offset);
      offset = end;
      if (mark !== undefined) this.sendMark(streamSid, mark);
    }
  }

  /** A mark carrying the sentence id at the current position; its echo raises `sentencePlayed`. */
  endSentence(epoch: number, sentenceId: number): void {
    const streamSid = this.streamingSid('endSentence');
    if (streamSid === undefined || !this.enterEpoch(epoch)) return;
    this.sendMark(streamSid, this.ledger.sentenceEnd(sentenceId));
  }

  /** Sends `clear` (always: Twilio may hold audio we consider played out) and starts `newEpoch` at 0. */
  clear(newEpoch: number): void {
    if (newEpoch < this.ledger.epoch) this.log.warn({ streamSid: this.sid, epoch: this.ledger.epoch, newEpoch }, 'clear moved the epoch backwards');
    this.ledger.clear(newEpoch);
    const streamSid = this.streamingSid('clear');
    if (streamSid === undefined) return;
    if (this.link.send(serializeClear(streamSid))) this.counters.clearsSent++;
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount();
  }

  /** Closes the socket and raises `closed(code, reason)` once; later calls do nothing. */
  close(code: number, reason: string): void {
    this.link.close(code, reason);
  }

  // ------------------------------------------------------------------------------------------
  // Outbound helpers

  /** The streamSid when audio may be sent now; otherwise logs why and returns undefined. */
  private streamingSid(action: string): string | undefined {
    if (this.link.state === 'streaming' && this.sid !== undefined) return this.sid;
    this.link.dropSend({ action }, 'twilio stream not open; dropped');
    return undefined;
  }

  /** Moves to `epoch` if it is newer; false (and dropped) if it is older than the current one. */
  private enterEpoch(epoch: number): boolean {
    const result = this.ledger.enter(epoch);
    if (!result.ok) {
      this.counters.staleSends++;
      this.log.debug({ streamSid: this.sid, epoch, current: this.ledger.epoch }, 'stale epoch; dropped');
      return false;
    }
    // The old epoch ended without a clear: its tail gets a mark so its last audio can be confirmed.
    if (result.closingMark !== undefined && this.sid !== undefined) this.sendMark(this.sid, result.closingMark);
    return true;
  }

  private sendMark(streamSid: string, name: string): void {
    if (this.link.send(serializeMark(streamSid, name))) this.counters.marksSent++;
  }

  // ------------------------------------------------------------------------------------------
  // Inbound (the link passes messages on only while it is not closed)

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.link.reject(vwError('VW_ERR_BINARY_FRAME'));
    const size = rawLength(data);
    if (size > MAX_MESSAGE_CHARS) return this.link.reject(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, MAX_MESSAGE_CHARS));
    const result = parseTwilioMessage(rawText(data), this.media);
    if (!result.ok) return this.link.reject(result.error);
    this.dispatch(result.message);
  }

  private dispatch(message: TwilioInbound): void {
    if (message.event === 'connected') {
      this.log.debug({ protocol: message.protocol, version: message.version }, 'twilio connected');
      return;
    }
    if (message.event === 'start') {
      if (this.link.state !== 'awaiting-start') return this.link.fail(vwError('VW_ERR_DUPLICATE_START'));
      this.stopStartTimer();
      this.link.enter('streaming');
      this.sid = message.streamSid;
      this.callSid = message.callSid;
      const info = { callId: message.callSid, streamId: message.streamSid, parameters: message.customParameters, format: TWILIO_FORMAT };
      this.log.info({ streamSid: this.sid, callSid: this.callSid, tracks: message.tracks }, 'twilio stream started');
      return this.link.emit((events) => events.start(info));
    }
    if (message.event === 'stop' && this.link.state === 'awaiting-start') return this.link.close(1000, 'twilio stop');
    if (this.link.state !== 'streaming') return this.link.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    if (message.streamSid !== this.sid) return this.link.reject(vwError('VW_ERR_WRONG_STREAM', message.streamSid, this.sid ?? ''));
    switch (message.event) {
      case 'media':
        return this.deliverAudio(message.track, message.payload);
      case 'dtmf':
        return this.link.emit((events) => events.dtmf(message.digit));
      case 'mark':
        return this.handleMarkEcho(message);
      case 'stop':
        this.log.info({ streamSid: this.sid, callSid: this.callSid }, 'twilio stream stopped');
        return this.link.close(1000, 'twilio stop');
    }
  }

  private deliverAudio(track: string, payload: Uint8Array): void {
    // A bidirectional stream carries only the caller's track; anything else is not for the model.
    if (track !== 'inbound') return this.log.debug({ streamSid: this.sid, track }, 'media of another track ignored');
    // Before attach the link queues a copy: the reused buffer would be overwritten while queued.
    this.link.emitAudio(payload, payload.length / bytesPerMs(TWILIO_FORMAT));
  }

  private handleMarkEcho(message: TwilioMarkEcho): void {
    const verdict = this.ledger.judge(message.name);
    if (verdict.kind === 'unknown') {
      this.counters.echoesUnknown++;
      // Bounded: a peer repeating forged names must not flood the log.
      const level = this.counters.echoesUnknown <= MAX_WARNED_UNKNOWN_ECHOES ? 'warn' : 'debug';
      this.log[level]({ streamSid: this.sid, name: message.name.slice(0, 80) }, 'echo of a mark we did not send; ignored');
      return;
    }
    if (verdict.kind === 'flushed') {
      this.counters.echoesFlushed++;
      return;
    }
    this.counters.echoesTrusted++;
    const { epoch, positionMs, sentenceId } = verdict;
    if (verdict.advanced) this.link.emit((events) => events.played(epoch, positionMs));
    if (sentenceId !== undefined) this.link.emit((events) => events.sentencePlayed(epoch, sentenceId));
  }
}
