/**
 * CallerTransport over a JSON media-stream WebSocket (server side of a `ws` connection), for
 * every carrier dialect (dialect.ts): Twilio, SignalWire, Telnyx, Exotel, Plivo, Vonage.
 *
 * Inbound: each text frame goes through the dialect's pure parser; malformed input is reported as
 * `badInput` with its code and the connection lives on, up to `maxBadInputs` per call. Outbound:
 * each piece of model audio becomes one `media` message (one per frame for a framed dialect), never
 * split by a mark: a `mark` follows the message during which `markEveryMs` of audio accumulated
 * since the previous mark (so marks are at most `markEveryMs` + one message apart), and one ends
 * each sentence. Mark names carry epoch, a per-connection sequence number and the cumulative
 * position (twilio/marks.ts, twilio/mark-ledger.ts), so an echo is judged on its own: echoes of
 * marks sent before a `clear` are recognised by their sequence number and never count as played,
 * whether the carrier echoes them at once on the clear (Twilio, Telnyx, SignalWire), later, or
 * never; so are echoes that cross the clear on the wire (a conservative loss of at most one mark
 * interval).
 *
 * Dialects whose carrier wants outbound chunks in whole multiples of some size (Exotel: 320
 * bytes), or exactly one frame per message (Vonage: 20 ms), get them: a remainder is held (< one
 * unit) until more audio of the epoch arrives, padded with silence at a sentence end or epoch
 * change, dropped by a clear. Padding is not counted in positions, so a confirmation never claims
 * audio the model did not produce.
 *
 * `played(epoch, ms)` is raised for every confirmation not invalidated by a clear, including those
 * of an older epoch that ended without a clear (its tail still plays): sessions compare the epoch.
 * Heartbeats and bufferedAmount watching belong to the server's ConnectionWatch.
 */
import type { RawData, WebSocket } from 'ws';
import { bytesPerMs, bytesPerSample, isSameFormat, type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawBytes, rawLength, rawText, type LinkMoves, type TransportLogger, DEFAULT_START_TIMEOUT_MS } from '../socket-link.js';
import type { CallerTransport, OutboundAudio, TransportEvents, TransportKind } from '../transport.js';
import { MarkLedger } from '../twilio/mark-ledger.js';
import type { MediaStreamDialect, StreamInbound, StreamParseResult } from './dialect.js';
import { UnitAligner } from './unit-aligner.js';

export type { TransportLogger } from '../socket-link.js';

export interface MediaStreamTransportOptions {
  readonly logger?: TransportLogger;
  /** Longest stretch of audio between two marks (ms). Default 200. */
  readonly markEveryMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Largest inbound media payload (bytes). Default: the dialect's. */
  readonly maxPayloadBytes?: number;
  /** A stream that sends no `start` within this time is closed with VW_ERR_START_TIMEOUT (4020). Default 5000. */
  readonly startTimeoutMs?: number;
}

/** Counters for tests and metrics; all are plain numbers (bounded state). */
export interface MediaStreamStats {
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
  /** Silence bytes added to complete an outbound unit (dialects with `outboundAlignBytes` > 1). */
  paddingBytes: number;
  /** Error reports from the carrier (Telnyx `error`). */
  carrierErrors: number;
  /** Messages that needed no action (Plivo `clearedAudio`). */
  notices: number;
}

/** Phases of a stream before it closes: `start` moves it to streaming (SocketLink adds 'closed'). */
type StreamPhase = 'awaiting-start' | 'streaming';
const MOVES: LinkMoves<StreamPhase> = { 'awaiting-start': ['streaming'], streaming: [] };

/**
 * Inbound payload buffers shared by every stream of the process, one per size: a payload is
 * decoded into it and handed to the `audio` handler synchronously (before attach, a copy is
 * queued), so no two streams ever need it at once, and a call does not hold its own (8 kB for
 * Twilio's bound). Few sizes exist (one per dialect and option); past MAX_SHARED_SIZES a stream
 * gets its own.
 */
const sharedPayloadBuffers = new Map<number, Uint8Array>();
const MAX_SHARED_SIZES = 16;

function payloadBuffer(size: number): Uint8Array {
  let buffer = sharedPayloadBuffers.get(size);
  if (buffer !== undefined) return buffer;
  buffer = new Uint8Array(size);
  if (sharedPayloadBuffers.size < MAX_SHARED_SIZES) sharedPayloadBuffers.set(size, buffer);
  return buffer;
}

/** Unknown mark echoes (and carrier errors) logged at warn per call; later ones at debug. */
const MAX_WARNED = 10;
const DEFAULT_MARK_EVERY_MS = 200;

export class MediaStreamTransport implements CallerTransport {
  readonly kind: TransportKind;
  protected readonly dialect: MediaStreamDialect;
  /** The socket, its state, pending events, sends, closing and bad-input accounting. */
  private readonly link: SocketLink<StreamPhase>;
  private sid: string | undefined;
  private callId: string | undefined;
  private readonly log: TransportLogger;
  /** Reused for every inbound payload (shared by all streams): `audio` handlers get a view of it, valid during the call. */
  private readonly media: Uint8Array;
  /** The last view of `media` handed to `audio` (frames are nearly always one size: it is reused). */
  private mediaView: Uint8Array = new Uint8Array(0);
  private readonly markEveryMs: number;
  private format: AudioFormat;
  private ledger: MarkLedger;
  /** Outbound bytes short of one whole unit, waiting for more audio of the epoch (sized at `start`). */
  private aligner: UnitAligner;
  /** One message per unit (a framed dialect) rather than any number of whole units. */
  private readonly framed: boolean;
  /** The link counts `badInputs` and `sendsDropped`. */
  private readonly counters: Omit<MediaStreamStats, 'badInputs' | 'sendsDropped'> = {
    mediaSent: 0,
    bytesSent: 0,
    marksSent: 0,
    clearsSent: 0,
    echoesTrusted: 0,
    echoesFlushed: 0,
    echoesUnknown: 0,
    staleSends: 0,
    paddingBytes: 0,
    carrierErrors: 0,
    notices: 0,
  };

  /**
   * Takes over `ws` (an open server-side socket). Reading is paused until `attach`, so no event is
   * lost if the session attaches a little later; the few that ws may still deliver are queued.
   */
  constructor(ws: WebSocket, dialect: MediaStreamDialect, options: MediaStreamTransportOptions = {}) {
    this.markEveryMs = options.markEveryMs ?? DEFAULT_MARK_EVERY_MS;
    if (!(this.markEveryMs > 0)) throw new RangeError(`markEveryMs must be > 0 (got ${this.markEveryMs})`);
    this.kind = dialect.kind;
    this.dialect = dialect;
    this.format = dialect.defaultFormat;
    this.ledger = this.newLedger(this.format);
    this.framed = dialect.outboundFrameBytes !== undefined;
    this.aligner = new UnitAligner(this.unitOf(this.format));
    this.media = payloadBuffer(options.maxPayloadBytes ?? dialect.maxPayloadBytes);
    this.log = options.logger ?? NOOP_LOGGER;
    this.link = new SocketLink(ws, {
      label: dialect.label,
      owner: dialect.owner,
      initial: 'awaiting-start',
      moves: MOVES,
      logger: this.log,
      logContext: () => ({ streamId: this.sid }),
      maxBadInputs: options.maxBadInputs,
      failReason: 'message',
      onMessage: (data, isBinary) => this.handleMessage(data, isBinary),
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    });
  }

  /** The stream's id from `start` (undefined before it). */
  get streamId(): string | undefined {
    return this.sid;
  }

  /** The epoch whose audio is being sent. */
  get currentEpoch(): number {
    return this.ledger.epoch;
  }

  /** The caller's audio format (the dialect's default until `start`). */
  get audioFormat(): AudioFormat {
    return this.format;
  }

  stats(): Readonly<MediaStreamStats> {
    return { badInputs: this.link.badInputs, ...this.counters, sendsDropped: this.link.sendsDropped };
  }

  attach(events: TransportEvents): void {
    this.link.attach(events);
  }

  /**
   * Sends `chunk.bytes` as one `media` message (its whole units; one per frame when framed), with a
   * mark right after it once `markEveryMs` of the epoch's audio has gone since the last one. Audio of an epoch older than the current
   * one is dropped; a newer epoch starts its positions at 0 (after a closing mark for the old one).
   */
  sendAudio(chunk: OutboundAudio): void {
    const streamId = this.streamingId('sendAudio');
    if (streamId === undefined) return;
    // A media message and the mark after it leave in one socket write.
    this.link.cork();
    try {
      if (!this.enterEpoch(chunk.epoch)) return;
      this.aligner.push(chunk.bytes, this.sendMarkedOnStream);
    } finally {
      this.link.uncork();
    }
  }

  /** `sendMarked` on the current stream, made once (sendAudio runs per piece of audio). */
  private readonly sendMarkedOnStream = (bytes: Uint8Array): void => {
    if (this.sid !== undefined) this.sendMarked(this.sid, bytes);
  };

  /** A mark carrying the sentence id at the current position; its echo raises `sentencePlayed`. */
  endSentence(epoch: number, sentenceId: number): void {
    const streamId = this.streamingId('endSentence');
    if (streamId === undefined || !this.enterEpoch(epoch)) return;
    this.flushCarry(streamId);
    this.sendMark(streamId, this.ledger.sentenceEnd(sentenceId));
  }

  /** Sends `clear` (always: the carrier may hold audio we consider played out) and starts `newEpoch` at 0. */
  clear(newEpoch: number): void {
    if (newEpoch < this.ledger.epoch) this.log.warn({ streamId: this.sid, epoch: this.ledger.epoch, newEpoch }, 'clear moved the epoch backwards');
    this.ledger.clear(newEpoch);
    this.aligner.drop(); // audio of the interrupted epoch: dropped, never flushed
    const streamId = this.streamingId('clear');
    if (streamId === undefined) return;
    if (!this.link.send(this.dialect.serializeClear(streamId))) return;
    this.counters.clearsSent++;
    // Its echo (played at position 0 of the new epoch) confirms the caller is silent.
    this.sendMark(streamId, this.ledger.here());
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

  private unitOf(format: AudioFormat): number {
    return this.dialect.outboundFrameBytes?.(format) ?? this.dialect.outboundAlignBytes;
  }

  private newLedger(format: AudioFormat): MarkLedger {
    const perMs = bytesPerMs(format);
    const align = this.unitOf(format);
    // Whole units (and samples): a framed dialect's marks then fall every `markEveryMs` exactly.
    const unit = align % bytesPerSample(format) === 0 ? align : align * bytesPerSample(format);
    const markEveryBytes = Math.max(unit, Math.round((this.markEveryMs * perMs) / unit) * unit);
    return new MarkLedger(markEveryBytes, perMs);
  }

  /** The stream id when audio may be sent now; otherwise logs why and returns undefined. */
  private streamingId(action: string): string | undefined {
    if (this.link.state === 'streaming' && this.sid !== undefined) return this.sid;
    this.link.dropSend({ action }, `${this.dialect.label} stream not open; dropped`);
    return undefined;
  }

  /** Moves to `epoch` if it is newer; false (and dropped) if it is older than the current one. */
  private enterEpoch(epoch: number): boolean {
    if (epoch > this.ledger.epoch && this.sid !== undefined) this.flushCarry(this.sid);
    const result = this.ledger.enter(epoch);
    if (!result.ok) {
      this.counters.staleSends++;
      this.log.debug({ streamId: this.sid, epoch, current: this.ledger.epoch }, 'stale epoch; dropped');
      return false;
    }
    // The old epoch ended without a clear: its tail gets a mark so its last audio can be confirmed.
    if (result.closingMark !== undefined && this.sid !== undefined) this.sendMark(this.sid, result.closingMark);
    return true;
  }

  /** `bytes` (whole units) as one media message, or one per frame when framed; a due mark after each. */
  private sendMarked(streamId: string, bytes: Uint8Array): void {
    if (!this.framed) {
      this.sendMediaMarked(streamId, bytes, 0, bytes.length);
      return;
    }
    const unit = this.aligner.unit;
    for (let offset = 0; offset < bytes.length; offset += unit) {
      if (!this.sendMediaMarked(streamId, bytes, offset, offset + unit)) return;
    }
  }

  private sendMediaMarked(streamId: string, bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.sendMedia(streamId, bytes, start, end)) return false;
    const mark = this.ledger.sent(end - start);
    if (mark !== undefined) this.sendMark(streamId, mark);
    return true;
  }

  /**
   * Sends the held remainder padded with silence to one whole unit; positions count only the real
   * bytes. Callers send a mark right after (a sentence end, an epoch's close), so no periodic one.
   */
  private flushCarry(streamId: string): void {
    const tail = this.aligner.flush(this.format.encoding === 'pcmu' ? 0xff : 0);
    if (tail === undefined) return;
    this.counters.paddingBytes += tail.bytes.length - tail.real;
    if (this.sendMedia(streamId, tail.bytes, 0, tail.bytes.length)) this.ledger.sentBeforeMark(tail.real);
  }

  private sendMedia(streamId: string, bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.link.send(this.dialect.serializeMedia(streamId, bytes, start, end, this.format))) return false;
    this.counters.mediaSent++;
    this.counters.bytesSent += end - start;
    return true;
  }

  private sendMark(streamId: string, name: string): void {
    if (this.link.send(this.dialect.serializeMark(streamId, name))) this.counters.marksSent++;
  }

  // ------------------------------------------------------------------------------------------
  // Inbound (the link passes messages on only while it is not closed)

  private handleMessage(data: RawData, isBinary: boolean): void {
    const size = rawLength(data);
    const dialect = this.dialect;
    const max = dialect.maxMessageChars;
    if (size > max) return this.link.reject(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, max));
    if (isBinary) {
      if (dialect.parseBinary === undefined) return this.link.reject(vwError('VW_ERR_BINARY_FRAME'));
      return this.handleParsed(dialect.parseBinary(rawBytes(data)));
    }
    if (dialect.parseTextBytes === undefined) return this.handleParsed(dialect.parse(rawText(data), this.media, this.sid));
    const bytes = rawBytes(data);
    // On the started stream, the caller's audio (50 frames a second) and the echoes of our marks
    // (5 a second) skip the message object and dispatch: dispatch would reach the same handlers.
    if (this.sid !== undefined && this.link.state === 'streaming') {
      if (dialect.readCallerAudio !== undefined) {
        const payloadSize = dialect.readCallerAudio(bytes, this.media, this.sid);
        if (payloadSize > 0) return this.deliverCallerAudio(payloadSize);
      }
      if (dialect.readMarkEcho !== undefined) {
        const name = dialect.readMarkEcho(bytes, this.sid);
        if (name !== undefined) return this.handleMarkEcho(name);
      }
    }
    this.handleParsed(dialect.parseTextBytes(bytes, this.media, this.sid));
  }

  private handleParsed(result: StreamParseResult): void {
    if (!result.ok) return this.link.reject(result.error);
    this.dispatch(result.message);
  }

  private dispatch(message: StreamInbound): void {
    const label = this.dialect.label;
    if (message.event === 'connected') return this.log.debug({}, `${label} connected`);
    if (message.event === 'error') return this.carrierError(message.code, message.detail);
    if (message.event === 'notice' && message.streamId === undefined) return this.notice(message.what);
    if (message.event === 'start') {
      if (this.link.state !== 'awaiting-start') return this.link.fail(vwError('VW_ERR_DUPLICATE_START'));
      this.link.enter('streaming');
      this.sid = message.streamId;
      this.callId = message.callId;
      if (!isSameFormat(message.format, this.format)) {
        const epoch = this.ledger.epoch;
        this.format = message.format;
        this.ledger = this.newLedger(message.format);
        this.ledger.clear(epoch); // nothing was sent yet; keep the session's epoch
        this.aligner = new UnitAligner(this.unitOf(message.format));
      }
      const info = { callId: message.callId, streamId: message.streamId, parameters: message.parameters, format: message.format };
      this.log.info({ streamId: this.sid, callId: this.callId, ...message.detail }, `${label} stream started`);
      return this.link.emit((events) => events.start(info));
    }
    if (message.event === 'stop' && this.link.state === 'awaiting-start') return this.link.close(1000, `${label} stop`);
    if (this.link.state !== 'streaming') return this.link.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    if (this.dialect.messagesNameStream !== false && message.streamId !== this.sid) return this.link.reject(vwError('VW_ERR_WRONG_STREAM', message.streamId ?? '', this.sid ?? ''));
    switch (message.event) {
      case 'media':
        return this.deliverAudio(message.track, message.payload);
      case 'dtmf':
        return this.link.emit((events) => events.dtmf(message.digit));
      case 'mark':
        return this.handleMarkEcho(message.name);
      case 'notice':
        return this.notice(message.what);
      case 'stop':
        this.log.info({ streamId: this.sid, callId: this.callId }, `${label} stream stopped`);
        return this.link.close(1000, `${label} stop`);
    }
  }

  private notice(what: string): void {
    this.counters.notices++;
    this.log.debug({ streamId: this.sid, what }, `${this.dialect.label} notice`);
  }

  private carrierError(code: string, detail: string): void {
    this.counters.carrierErrors++;
    const level = this.counters.carrierErrors <= MAX_WARNED ? 'warn' : 'debug';
    this.log[level]({ streamId: this.sid, carrierCode: code, detail }, `${this.dialect.label} reported an error on the stream`);
  }

  private deliverAudio(track: string | undefined, payload: Uint8Array): void {
    // A bidirectional stream carries only the caller's track; anything else is not for the model.
    if (track !== undefined && track !== this.dialect.callerTrack) {
      return this.log.debug({ streamId: this.sid, track }, 'media of another track ignored');
    }
    this.emitCallerAudio(payload);
  }

  /** The caller's audio read by `readCallerAudio`: `media[0, size)`, through a view made once per size. */
  private deliverCallerAudio(size: number): void {
    let view = this.mediaView;
    if (view.length !== size) this.mediaView = view = this.media.subarray(0, size);
    this.emitCallerAudio(view);
  }

  private emitCallerAudio(payload: Uint8Array): void {
    if (payload.length % bytesPerSample(this.format) !== 0) {
      return this.link.reject(vwError('VW_ERR_BAD_PAYLOAD_SIZE', payload.length));
    }
    // Before attach the link queues a copy: the reused buffer would be overwritten while queued.
    this.link.emitAudio(payload, payload.length / bytesPerMs(this.format));
  }

  private handleMarkEcho(name: string): void {
    const verdict = this.ledger.judge(name);
    if (verdict.kind === 'unknown') {
      this.counters.echoesUnknown++;
      // Bounded: a peer repeating forged names must not flood the log.
      const level = this.counters.echoesUnknown <= MAX_WARNED ? 'warn' : 'debug';
      this.log[level]({ streamId: this.sid, name: name.slice(0, 80) }, 'echo of a mark we did not send; ignored');
      return;
    }
    if (verdict.kind === 'flushed') {
      this.counters.echoesFlushed++;
      const { epoch, positionMs } = verdict;
      this.link.emit((events) => events.echoAfterClear?.(epoch, positionMs));
      return;
    }
    this.counters.echoesTrusted++;
    const { epoch, positionMs, sentenceId } = verdict;
    if (verdict.advanced) this.link.emit((events) => events.played(epoch, positionMs));
    if (sentenceId !== undefined) this.link.emit((events) => events.sentencePlayed(epoch, sentenceId));
  }
}
