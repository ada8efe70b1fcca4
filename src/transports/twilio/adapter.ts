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
import { vwError, type VoicewireError } from '../../errors.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, parseTwilioMessage, serializeClear, serializeMark, serializeMedia } from './codec.js';
import { MarkLedger } from './mark-ledger.js';
import type { TwilioInbound, TwilioMarkEcho } from './messages.js';

/** The subset of a pino logger the adapter uses. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TwilioTransportOptions {
  readonly logger?: TransportLogger;
  /** Longest stretch of audio between two marks (ms). Default 200. */
  readonly markEveryMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Largest inbound media payload (bytes). Default 8000 (1 s). */
  readonly maxPayloadBytes?: number;
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

type TransportState = 'awaiting-start' | 'streaming' | 'closed';

/** Events raised before `attach`; bounded (a session attaches in the same tick in practice). */
const MAX_PENDING_EVENTS = 64;
/** Unknown mark echoes logged at warn per call; later ones at debug. */
const MAX_WARNED_UNKNOWN_ECHOES = 10;
const NOOP_LOGGER: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };
const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5). */
function closeReason(text: string): string {
  let reason = text.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

export class TwilioTransport implements CallerTransport {
  readonly kind = 'twilio' as const;
  private state: TransportState = 'awaiting-start';
  private events: TransportEvents | undefined;
  private pending: Array<(events: TransportEvents) => void> = [];
  private sid: string | undefined;
  private callSid: string | undefined;
  private readonly log: TransportLogger;
  private readonly maxBadInputs: number;
  /** Reused for every inbound payload: `audio` handlers get a view of it. */
  private readonly media: Uint8Array;

  private readonly ledger: MarkLedger;
  private readonly counters: TwilioTransportStats = {
    badInputs: 0,
    mediaSent: 0,
    bytesSent: 0,
    marksSent: 0,
    clearsSent: 0,
    echoesTrusted: 0,
    echoesFlushed: 0,
    echoesUnknown: 0,
    staleSends: 0,
    sendsDropped: 0,
  };

  private readonly onMessage = (data: RawData, isBinary: boolean): void => this.handleMessage(data, isBinary);
  private readonly onClose = (code: number, reason: Buffer): void => this.handleSocketClose(code, reason);
  private readonly onError = (err: Error): void => this.log.warn({ err, streamSid: this.sid }, 'twilio socket error');
  private readonly onSent = (err?: Error): void => {
    if (err) this.log.debug({ err, streamSid: this.sid }, 'twilio send failed');
  };

  /**
   * Takes over `ws` (an open server-side socket). Reading is paused until `attach`, so no event is
   * lost if the session attaches a little later; the few that ws may still deliver are queued.
   */
  constructor(
    private readonly ws: WebSocket,
    options: TwilioTransportOptions = {},
  ) {
    const markEveryMs = options.markEveryMs ?? 200;
    if (!(markEveryMs > 0)) throw new RangeError(`markEveryMs must be > 0 (got ${markEveryMs})`);
    this.log = options.logger ?? NOOP_LOGGER;
    this.ledger = new MarkLedger(Math.max(1, Math.round(markEveryMs * bytesPerMs(TWILIO_FORMAT))), bytesPerMs(TWILIO_FORMAT));
    this.maxBadInputs = options.maxBadInputs ?? 50;
    this.media = new Uint8Array(options.maxPayloadBytes ?? MAX_MEDIA_PAYLOAD_BYTES);
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    ws.pause();
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
    return { ...this.counters };
  }

  attach(events: TransportEvents): void {
    if (this.events !== undefined) throw new Error('TwilioTransport.attach called twice');
    this.events = events;
    const pending = this.pending;
    this.pending = [];
    for (const deliver of pending) deliver(events);
    if (this.state !== 'closed') this.ws.resume();
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
      if (!this.send(serializeMedia(streamSid, bytes, offset, end))) return;
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
    if (this.send(serializeClear(streamSid))) this.counters.clearsSent++;
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Closes the socket and raises `closed(code, reason)` once; later calls do nothing. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.endWith(code, reason, undefined);
  }

  // ------------------------------------------------------------------------------------------
  // Outbound helpers

  /** The streamSid when audio may be sent now; otherwise logs why and returns undefined. */
  private streamingSid(action: string): string | undefined {
    if (this.state === 'streaming' && this.sid !== undefined) return this.sid;
    this.counters.sendsDropped++;
    this.log.debug({ streamSid: this.sid, state: this.state, action }, 'twilio stream not open; dropped');
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
    if (this.send(serializeMark(streamSid, name))) this.counters.marksSent++;
  }

  /** Never throws: a closed or closing socket drops the message (ws would only error the callback). */
  private send(text: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) {
      this.counters.sendsDropped++;
      this.log.debug({ streamSid: this.sid, readyState: this.ws.readyState }, 'twilio socket not open; dropped');
      return false;
    }
    try {
      this.ws.send(text, this.onSent);
      return true;
    } catch (err) {
      this.counters.sendsDropped++;
      this.log.warn({ err, streamSid: this.sid }, 'twilio send threw');
      return false;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Inbound

  private emit(deliver: (events: TransportEvents) => void): void {
    if (this.events !== undefined) {
      deliver(this.events);
      return;
    }
    if (this.pending.length >= MAX_PENDING_EVENTS) {
      this.log.error({ streamSid: this.sid }, 'event before attach dropped: pending queue full');
      return;
    }
    this.pending.push(deliver);
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (isBinary) return this.reject(vwError('VW_ERR_BINARY_FRAME'));
    const size = rawLength(data);
    if (size > MAX_MESSAGE_CHARS) return this.reject(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, MAX_MESSAGE_CHARS));
    const result = parseTwilioMessage(rawText(data), this.media);
    if (!result.ok) return this.reject(result.error);
    this.dispatch(result.message);
  }

  private dispatch(message: TwilioInbound): void {
    if (message.event === 'connected') {
      this.log.debug({ protocol: message.protocol, version: message.version }, 'twilio connected');
      return;
    }
    if (message.event === 'start') {
      if (this.state !== 'awaiting-start') return this.fail(vwError('VW_ERR_DUPLICATE_START'));
      this.state = 'streaming';
      this.sid = message.streamSid;
      this.callSid = message.callSid;
      const info = { callId: message.callSid, streamId: message.streamSid, parameters: message.customParameters, format: TWILIO_FORMAT };
      this.log.info({ streamSid: this.sid, callSid: this.callSid, tracks: message.tracks }, 'twilio stream started');
      return this.emit((events) => events.start(info));
    }
    if (message.event === 'stop' && this.state === 'awaiting-start') return this.endWith(1000, 'twilio stop', undefined);
    if (this.state !== 'streaming') return this.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    if (message.streamSid !== this.sid) return this.reject(vwError('VW_ERR_WRONG_STREAM', message.streamSid, this.sid ?? ''));
    switch (message.event) {
      case 'media':
        return this.deliverAudio(message.track, message.payload);
      case 'dtmf':
        return this.emit((events) => events.dtmf(message.digit));
      case 'mark':
        return this.handleMarkEcho(message);
      case 'stop':
        this.log.info({ streamSid: this.sid, callSid: this.callSid }, 'twilio stream stopped');
        return this.endWith(1000, 'twilio stop', undefined);
    }
  }

  private deliverAudio(track: string, payload: Uint8Array): void {
    // A bidirectional stream carries only the caller's track; anything else is not for the model.
    if (track !== 'inbound') return this.log.debug({ streamSid: this.sid, track }, 'media of another track ignored');
    const durationMs = payload.length / bytesPerMs(TWILIO_FORMAT);
    if (this.events !== undefined) return this.events.audio(payload, durationMs);
    // Before attach the reused buffer would be overwritten while queued: queue a copy.
    const copy = payload.slice();
    this.emit((events) => events.audio(copy, durationMs));
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
    if (verdict.advanced) this.emit((events) => events.played(epoch, positionMs));
    if (sentenceId !== undefined) this.emit((events) => events.sentencePlayed(epoch, sentenceId));
  }

  /** Counts a malformed message; past `maxBadInputs` the connection is closed with 4003. */
  private reject(error: VoicewireError): void {
    this.counters.badInputs++;
    if (this.counters.badInputs > this.maxBadInputs) {
      return this.fail(vwError('VW_ERR_TOO_MANY_BAD_INPUTS', this.counters.badInputs));
    }
    this.log.warn({ streamSid: this.sid, code: error.code, detail: error.message }, 'bad input from twilio');
    this.emit((events) => events.badInput(error));
  }

  private fail(error: VoicewireError): void {
    this.log.warn({ streamSid: this.sid, code: error.code }, 'closing twilio stream');
    this.endWith(error.closeCode ?? 1011, error.message, error);
  }

  private endWith(code: number, reason: string, error: VoicewireError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    try {
      this.ws.close(code, closeReason(reason));
    } catch (err) {
      // An invalid code from the caller: do not leave the socket open because of it.
      this.log.warn({ err, streamSid: this.sid, code }, 'close failed; terminating');
      this.ws.terminate();
    }
    this.emit((events) => events.closed(code, reason, error));
  }

  private handleSocketClose(code: number, reason: Buffer): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const text = reason.toString('utf8');
    const error = CLEAN_CLOSE_CODES.has(code) ? undefined : vwError('VW_ERR_CLOSED', `twilio socket closed with ${code}`);
    this.log.info({ streamSid: this.sid, code, reason: text }, 'twilio socket closed');
    this.emit((events) => events.closed(code, text, error));
  }
}
