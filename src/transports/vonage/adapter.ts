/**
 * CallerTransport over a Vonage Voice API WebSocket (server side of a `ws` connection).
 *
 * Inbound: the first text message, `websocket:connected`, fixes the format (L16 at the endpoint's
 * rate, PCM16 little-endian: the model backend resamples it) and raises `start`; binary messages
 * are caller audio; `websocket:dtmf` is a keypress. Malformed input is a coded `badInput` and the
 * call lives on, up to `maxBadInputs`.
 *
 * Outbound: model audio is cut into 20 ms binary frames (the media-stream UnitAligner with one
 * frame as the unit: a remainder waits for more audio of the epoch, is padded with silence at a
 * sentence end or epoch change, dropped by a clear), with a `notify` action after
 * every `markEveryMs` of audio and at each sentence end; the notify payload carries the Twilio mark
 * name (epoch, per-connection sequence number, cumulative position: ../twilio/marks.ts), judged by
 * the same MarkLedger when `websocket:notify` echoes it. Barge-in sends `clear` and drops the held
 * remainder; Vonage's docs do not say whether notifies pending at a clear are echoed, so either
 * way is handled: their sequence numbers are below the clear, and they never count as played,
 * whether they arrive before or after `websocket:cleared`.
 */
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { bytesPerMs, frameBytes, type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawBytes, rawLength, rawText, type LinkMoves, type TransportLogger } from '../socket-link.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import { MarkLedger } from '../twilio/mark-ledger.js';
import { MAX_AUDIO_BYTES, MAX_TEXT_CHARS, parseVonageAudio, parseVonageText, serializeClear, serializeNotify } from './codec.js';
import { UnitAligner } from '../media-stream/unit-aligner.js';
import type { VonageConnected, VonageEvent } from './messages.js';

export interface VonageTransportOptions {
  readonly logger?: TransportLogger;
  /** Longest stretch of audio between two notifies (ms; rounded up to whole frames). Default 200. */
  readonly markEveryMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Call id when the connected message carries no `uuid` header (tests). Default: random. */
  readonly fallbackCallId?: () => string;
}

export interface VonageTransportStats {
  badInputs: number;
  framesSent: number;
  /** Bytes of model audio sent (padding excluded). */
  bytesSent: number;
  /** Bytes of silence added to finish a frame at a sentence end or an epoch change. */
  paddingBytes: number;
  notifiesSent: number;
  clearsSent: number;
  clearsAcknowledged: number;
  notifiesTrusted: number;
  /** Echoes of notifies sent before a clear (never count as played). */
  notifiesFlushed: number;
  notifiesUnknown: number;
  staleSends: number;
  sendsDropped: number;
}

type VonagePhase = 'awaiting-connected' | 'streaming';
const MOVES: LinkMoves<VonagePhase> = { 'awaiting-connected': ['streaming'], streaming: [] };
const MAX_WARNED_UNKNOWN = 10;

export class VonageTransport implements CallerTransport {
  readonly kind = 'vonage' as const;
  private readonly link: SocketLink<VonagePhase>;
  private readonly log: TransportLogger;
  private readonly markEveryMs: number;
  private readonly fallbackCallId: () => string;
  private format: AudioFormat = { encoding: 'pcm16', sampleRate: 16000 };
  private ledger: MarkLedger;
  /** Holds less than one frame between pieces of audio: the caller holds at most the window + one frame. */
  private framer: UnitAligner;
  private callId: string | undefined;
  private readonly counters: Omit<VonageTransportStats, 'badInputs' | 'sendsDropped'> = {
    framesSent: 0,
    bytesSent: 0,
    paddingBytes: 0,
    notifiesSent: 0,
    clearsSent: 0,
    clearsAcknowledged: 0,
    notifiesTrusted: 0,
    notifiesFlushed: 0,
    notifiesUnknown: 0,
    staleSends: 0,
  };

  /** Takes over `ws` (an open server-side socket); reading is paused until `attach`. */
  constructor(ws: WebSocket, options: VonageTransportOptions = {}) {
    this.markEveryMs = options.markEveryMs ?? 200;
    if (!(this.markEveryMs > 0)) throw new RangeError(`markEveryMs must be > 0 (got ${this.markEveryMs})`);
    this.fallbackCallId = options.fallbackCallId ?? randomUUID;
    this.log = options.logger ?? NOOP_LOGGER;
    this.framer = new UnitAligner(frameBytes(this.format));
    this.ledger = this.newLedger();
    this.link = new SocketLink(ws, {
      label: 'vonage',
      owner: 'VonageTransport',
      initial: 'awaiting-connected',
      moves: MOVES,
      logger: this.log,
      logContext: () => ({ callUuid: this.callId }),
      maxBadInputs: options.maxBadInputs,
      failReason: 'message',
      onMessage: (data, isBinary) => this.handleMessage(data, isBinary),
    });
  }

  get currentEpoch(): number {
    return this.ledger.epoch;
  }

  stats(): Readonly<VonageTransportStats> {
    return { badInputs: this.link.badInputs, ...this.counters, sendsDropped: this.link.sendsDropped };
  }

  attach(events: TransportEvents): void {
    this.link.attach(events);
  }

  /** Whole frames go out at once, a notify after every `markEveryMs`; a remainder waits. */
  sendAudio(chunk: OutboundAudio): void {
    if (!this.streaming('sendAudio') || !this.enterEpoch(chunk.epoch)) return;
    const frame = this.framer.unit;
    let open = true;
    this.framer.push(chunk.bytes, (run) => {
      // One binary message per frame, each a copy: ws may still hold it after send returns.
      for (let offset = 0; open && offset < run.length; offset += frame) open = this.sendFrame(run.slice(offset, offset + frame), frame);
    });
  }

  /** Sends the held remainder (padded) and a notify carrying the sentence id. */
  endSentence(epoch: number, sentenceId: number): void {
    if (!this.streaming('endSentence') || !this.enterEpoch(epoch)) return;
    this.flushRemainder();
    this.sendNotify(this.ledger.sentenceEnd(sentenceId));
  }

  /** Sends `clear` (always: Vonage may hold audio we consider played), drops the remainder, starts `newEpoch` at 0. */
  clear(newEpoch: number): void {
    if (newEpoch < this.ledger.epoch) this.log.warn({ callUuid: this.callId, epoch: this.ledger.epoch, newEpoch }, 'clear moved the epoch backwards');
    this.framer.drop();
    this.ledger.clear(newEpoch);
    if (!this.streaming('clear')) return;
    if (this.link.send(serializeClear())) this.counters.clearsSent++;
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.link.close(code, reason);
  }

  private newLedger(): MarkLedger {
    const frame = frameBytes(this.format);
    // Whole frames between notifies: frames are the unit Vonage plays.
    const every = Math.max(1, Math.ceil((this.markEveryMs * bytesPerMs(this.format)) / frame)) * frame;
    return new MarkLedger(every, bytesPerMs(this.format));
  }

  private streaming(action: string): boolean {
    if (this.link.state === 'streaming') return true;
    this.link.dropSend({ action }, 'vonage stream not open; dropped');
    return false;
  }

  /** Moves to `epoch` if newer (sending the old epoch's remainder and a closing notify first). */
  private enterEpoch(epoch: number): boolean {
    if (epoch < this.ledger.epoch) {
      this.counters.staleSends++;
      return false;
    }
    if (epoch > this.ledger.epoch) this.flushRemainder();
    const result = this.ledger.enter(epoch);
    if (result.ok && result.closingMark !== undefined) this.sendNotify(result.closingMark);
    return result.ok;
  }

  private flushRemainder(): void {
    const tail = this.framer.flush(0);
    if (tail === undefined) return;
    this.counters.paddingBytes += tail.bytes.length - tail.real;
    this.sendFrame(tail.bytes, tail.real);
  }

  /** One binary frame holding `audioBytes` of model audio (the rest is padding). */
  private sendFrame(frame: Uint8Array, audioBytes: number): boolean {
    if (!this.link.send(frame)) return false;
    this.counters.framesSent++;
    this.counters.bytesSent += audioBytes;
    const mark = this.ledger.sent(audioBytes);
    if (mark !== undefined) this.sendNotify(mark);
    return true;
  }

  private sendNotify(name: string): void {
    if (this.link.send(serializeNotify(name))) this.counters.notifiesSent++;
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.onAudio(data);
    const size = rawLength(data);
    if (size > MAX_TEXT_CHARS) return this.link.reject(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, MAX_TEXT_CHARS));
    const result = parseVonageText(rawText(data));
    if (!result.ok) return this.link.reject(result.error);
    this.dispatch(result.message);
  }

  private onAudio(data: RawData): void {
    if (this.link.state !== 'streaming') return this.link.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    const result = parseVonageAudio(rawBytes(data), MAX_AUDIO_BYTES);
    if (!result.ok) return this.link.reject(result.error);
    this.link.emitAudio(result.bytes, result.bytes.length / bytesPerMs(this.format));
  }

  private dispatch(message: VonageEvent): void {
    if (message.event === 'websocket:connected') return this.onConnected(message);
    if (this.link.state !== 'streaming') return this.link.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    switch (message.event) {
      case 'websocket:notify': {
        const name = message.payload['name'];
        return this.onNotify(typeof name === 'string' ? name : '');
      }
      case 'websocket:cleared':
        this.counters.clearsAcknowledged++;
        return;
      case 'websocket:dtmf':
        return this.link.emit((events) => events.dtmf(message.digit));
    }
  }

  private onConnected(message: VonageConnected): void {
    if (this.link.state !== 'awaiting-connected') return this.link.fail(vwError('VW_ERR_DUPLICATE_START'));
    this.link.enter('streaming');
    this.format = { encoding: 'pcm16', sampleRate: message.rate };
    this.framer = new UnitAligner(frameBytes(this.format));
    this.ledger = this.newLedger();
    const { uuid, conversation_uuid: conversation, ...rest } = message.headers;
    this.callId = uuid ?? this.fallbackCallId();
    const info = { callId: this.callId, streamId: conversation ?? this.callId, parameters: { ...rest, ...(uuid ? { uuid } : {}) }, format: this.format };
    this.log.info({ callUuid: this.callId, contentType: message.contentType }, 'vonage websocket connected');
    this.link.emit((events) => events.start(info));
  }

  private onNotify(name: string): void {
    const verdict = this.ledger.judge(name);
    if (verdict.kind === 'unknown') {
      this.counters.notifiesUnknown++;
      const level = this.counters.notifiesUnknown <= MAX_WARNED_UNKNOWN ? 'warn' : 'debug';
      this.log[level]({ callUuid: this.callId, name: name.slice(0, 80) }, 'websocket:notify for a notify we did not send; ignored');
      return;
    }
    if (verdict.kind === 'flushed') {
      this.counters.notifiesFlushed++;
      return;
    }
    this.counters.notifiesTrusted++;
    const { epoch, positionMs, sentenceId } = verdict;
    if (verdict.advanced) this.link.emit((events) => events.played(epoch, positionMs));
    if (sentenceId !== undefined) this.link.emit((events) => events.sentencePlayed(epoch, sentenceId));
  }
}
