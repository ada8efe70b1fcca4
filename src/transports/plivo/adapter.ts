/**
 * CallerTransport over a Plivo Audio Streams WebSocket (server side of a `ws` connection).
 *
 * Inbound: each text frame goes through the pure codec; malformed input is reported as `badInput`
 * with its code and the call lives on, up to `maxBadInputs`. The `start` message fixes the format
 * of both directions (μ-law 8 kHz passes through to a μ-law model untouched; L16 8/16 kHz is PCM16
 * little-endian, which the model backend resamples).
 *
 * Outbound: model audio becomes `playAudio` messages with a `checkpoint` after every `markEveryMs`
 * of audio and one at each sentence end. Checkpoint names are the Twilio mark names (epoch,
 * per-connection sequence number, cumulative position: ../twilio/marks.ts) judged by the same
 * MarkLedger, so a `playedStream` is judged on its own:
 * - Plivo emits `playedStream` only for audio that actually played, and nothing for checkpoints a
 *   `clearAudio` dropped. Should it ever acknowledge those (before or after `clearedAudio`), their
 *   sequence numbers are below the clear and they never count as played.
 * - `clearAudio` is sent on every barge-in; `clearedAudio` is counted, and the credit does not wait
 *   for it: the session restarts the new epoch at a full window, and Plivo processes messages in
 *   order, so audio sent after the clear is never dropped by it.
 * Heartbeats and bufferedAmount watching belong to the server's ConnectionWatch.
 */
import type { RawData, WebSocket } from 'ws';
import { TWILIO_FORMAT, bytesPerMs, bytesPerSample, type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawLength, rawText, type LinkMoves, type TransportLogger, DEFAULT_START_TIMEOUT_MS } from '../socket-link.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import { MarkLedger } from '../twilio/mark-ledger.js';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, parsePlivoMessage, serializeCheckpoint, serializeClearAudio, serializePlayAudio } from './codec.js';
import { PLIVO_MULAW, type PlivoInbound, type PlivoMediaFormat, type PlivoStart } from './messages.js';

export interface PlivoTransportOptions {
  readonly logger?: TransportLogger;
  /** Longest stretch of audio between two checkpoints (ms). Default 200. */
  readonly markEveryMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** A stream that does not start within this time is closed with VW_ERR_START_TIMEOUT (4020). Default 5000. */
  readonly startTimeoutMs?: number;
  /** Largest inbound media payload (bytes). Default 32000 (1 s of L16 16 kHz). */
  readonly maxPayloadBytes?: number;
}

/** Counters for tests and metrics (bounded state). */
export interface PlivoTransportStats {
  badInputs: number;
  playsSent: number;
  bytesSent: number;
  checkpointsSent: number;
  clearsSent: number;
  /** `clearedAudio` acknowledgements received. */
  clearsAcknowledged: number;
  /** `playedStream` that confirmed playback. */
  playedTrusted: number;
  /** `playedStream` of checkpoints sent before a clear (never count as played). */
  playedFlushed: number;
  /** `playedStream` whose name is not ours, or that we never sent. */
  playedUnknown: number;
  staleSends: number;
  sendsDropped: number;
}

type PlivoPhase = 'awaiting-start' | 'streaming';
const MOVES: LinkMoves<PlivoPhase> = { 'awaiting-start': ['streaming'], streaming: [] };
const MAX_WARNED_UNKNOWN = 10;

/** The voicewire format of a Plivo stream format. */
export function audioFormatOf(format: PlivoMediaFormat): AudioFormat {
  return format.encoding === PLIVO_MULAW ? TWILIO_FORMAT : { encoding: 'pcm16', sampleRate: format.sampleRate };
}

export class PlivoTransport implements CallerTransport {
  readonly kind = 'plivo' as const;
  private readonly link: SocketLink<PlivoPhase>;
  private readonly log: TransportLogger;
  private readonly media: Uint8Array;
  private readonly markEveryMs: number;
  private id: string | undefined;
  private wireFormat: PlivoMediaFormat = { encoding: PLIVO_MULAW, sampleRate: 8000 };
  private format: AudioFormat = TWILIO_FORMAT;
  /** Replaced at `start` once the format (hence bytes per ms) is known; nothing is sent before. */
  private ledger: MarkLedger;
  private readonly counters: Omit<PlivoTransportStats, 'badInputs' | 'sendsDropped'> = {
    playsSent: 0,
    bytesSent: 0,
    checkpointsSent: 0,
    clearsSent: 0,
    clearsAcknowledged: 0,
    playedTrusted: 0,
    playedFlushed: 0,
    playedUnknown: 0,
    staleSends: 0,
  };

  /** Takes over `ws` (an open server-side socket); reading is paused until `attach`. */
  constructor(ws: WebSocket, options: PlivoTransportOptions = {}) {
    this.markEveryMs = options.markEveryMs ?? 200;
    if (!(this.markEveryMs > 0)) throw new RangeError(`markEveryMs must be > 0 (got ${this.markEveryMs})`);
    this.ledger = this.newLedger();
    this.media = new Uint8Array(options.maxPayloadBytes ?? MAX_MEDIA_PAYLOAD_BYTES);
    this.log = options.logger ?? NOOP_LOGGER;
    this.link = new SocketLink(ws, {
      label: 'plivo',
      owner: 'PlivoTransport',
      initial: 'awaiting-start',
      moves: MOVES,
      logger: this.log,
      logContext: () => ({ streamId: this.id }),
      maxBadInputs: options.maxBadInputs,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      failReason: 'message',
      onMessage: (data, isBinary) => this.handleMessage(data, isBinary),
    });
  }

  /** The streamId from `start` (undefined before it). */
  get streamId(): string | undefined {
    return this.id;
  }

  get currentEpoch(): number {
    return this.ledger.epoch;
  }

  stats(): Readonly<PlivoTransportStats> {
    return { badInputs: this.link.badInputs, ...this.counters, sendsDropped: this.link.sendsDropped };
  }

  attach(events: TransportEvents): void {
    this.link.attach(events);
  }

  /** `playAudio` pieces split only where a checkpoint falls; audio of an older epoch is dropped. */
  sendAudio(chunk: OutboundAudio): void {
    const streamId = this.streamingId('sendAudio');
    if (streamId === undefined || !this.enterEpoch(streamId, chunk.epoch)) return;
    const bytes = chunk.bytes;
    let offset = 0;
    while (offset < bytes.length) {
      const end = Math.min(bytes.length, offset + this.ledger.roomBeforeMark());
      if (!this.link.send(serializePlayAudio(this.wireFormat, bytes, offset, end))) return;
      this.counters.playsSent++;
      this.counters.bytesSent += end - offset;
      const mark = this.ledger.sent(end - offset);
      offset = end;
      if (mark !== undefined) this.sendCheckpoint(streamId, mark);
    }
  }

  endSentence(epoch: number, sentenceId: number): void {
    const streamId = this.streamingId('endSentence');
    if (streamId === undefined || !this.enterEpoch(streamId, epoch)) return;
    this.sendCheckpoint(streamId, this.ledger.sentenceEnd(sentenceId));
  }

  /** Sends `clearAudio` (always: Plivo may hold audio we consider played) and starts `newEpoch` at 0. */
  clear(newEpoch: number): void {
    if (newEpoch < this.ledger.epoch) this.log.warn({ streamId: this.id, epoch: this.ledger.epoch, newEpoch }, 'clear moved the epoch backwards');
    this.ledger.clear(newEpoch);
    const streamId = this.streamingId('clear');
    if (streamId === undefined) return;
    if (!this.link.send(serializeClearAudio(streamId))) return;
    this.counters.clearsSent++;
    // Its playedStream (position 0 of the new epoch) confirms the caller is silent.
    this.sendCheckpoint(streamId, this.ledger.here());
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.link.close(code, reason);
  }

  private newLedger(): MarkLedger {
    const perMs = bytesPerMs(this.format);
    return new MarkLedger(Math.max(bytesPerSample(this.format), Math.round(this.markEveryMs * perMs)), perMs);
  }

  private streamingId(action: string): string | undefined {
    if (this.link.state === 'streaming' && this.id !== undefined) return this.id;
    this.link.dropSend({ action }, 'plivo stream not open; dropped');
    return undefined;
  }

  private enterEpoch(streamId: string, epoch: number): boolean {
    const result = this.ledger.enter(epoch);
    if (!result.ok) {
      this.counters.staleSends++;
      return false;
    }
    if (result.closingMark !== undefined) this.sendCheckpoint(streamId, result.closingMark);
    return true;
  }

  private sendCheckpoint(streamId: string, name: string): void {
    if (this.link.send(serializeCheckpoint(streamId, name))) this.counters.checkpointsSent++;
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.link.reject(vwError('VW_ERR_BINARY_FRAME'));
    const size = rawLength(data);
    if (size > MAX_MESSAGE_CHARS) return this.link.reject(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, MAX_MESSAGE_CHARS));
    const sampleBytes = this.format.encoding === 'pcm16' ? 2 : 1;
    const result = parsePlivoMessage(rawText(data), { mediaOut: this.media, sampleBytes });
    if (!result.ok) return this.link.reject(result.error);
    this.dispatch(result.message);
  }

  private dispatch(message: PlivoInbound): void {
    if (message.event === 'start') return this.onStart(message);
    if (message.event === 'stop' && this.link.state === 'awaiting-start') return this.link.close(1000, 'plivo stop');
    if (this.link.state !== 'streaming') return this.link.reject(vwError('VW_ERR_MEDIA_BEFORE_START'));
    if (message.streamId !== this.id) return this.link.reject(vwError('VW_ERR_WRONG_STREAM', message.streamId, this.id ?? ''));
    switch (message.event) {
      case 'media':
        // A bidirectional stream carries only the caller's track.
        if (message.track !== 'inbound') return;
        return this.link.emitAudio(message.payload, message.payload.length / bytesPerMs(this.format));
      case 'dtmf':
        return this.link.emit((events) => events.dtmf(message.digit));
      case 'playedStream':
        return this.onPlayed(message.name);
      case 'clearedAudio':
        this.counters.clearsAcknowledged++;
        return;
      case 'stop':
        this.log.info({ streamId: this.id, reason: message.reason }, 'plivo stream stopped');
        return this.link.close(1000, 'plivo stop');
    }
  }

  private onStart(message: PlivoStart): void {
    if (this.link.state !== 'awaiting-start') return this.link.fail(vwError('VW_ERR_DUPLICATE_START'));
    this.link.enter('streaming');
    this.id = message.streamId;
    this.wireFormat = message.mediaFormat;
    this.format = audioFormatOf(message.mediaFormat);
    this.ledger = this.newLedger();
    const info = { callId: message.callId, streamId: message.streamId, parameters: parseExtraHeaders(message.extraHeaders), format: this.format };
    this.log.info({ streamId: this.id, callId: message.callId, format: message.mediaFormat }, 'plivo stream started');
    this.link.emit((events) => events.start(info));
  }

  private onPlayed(name: string): void {
    const verdict = this.ledger.judge(name);
    if (verdict.kind === 'unknown') {
      this.counters.playedUnknown++;
      const level = this.counters.playedUnknown <= MAX_WARNED_UNKNOWN ? 'warn' : 'debug';
      this.log[level]({ streamId: this.id, name: name.slice(0, 80) }, 'playedStream for a checkpoint we did not send; ignored');
      return;
    }
    if (verdict.kind === 'flushed') {
      this.counters.playedFlushed++;
      return;
    }
    this.counters.playedTrusted++;
    const { epoch, positionMs, sentenceId } = verdict;
    if (verdict.advanced) this.link.emit((events) => events.played(epoch, positionMs));
    if (sentenceId !== undefined) this.link.emit((events) => events.sentencePlayed(epoch, sentenceId));
  }
}

/**
 * `extra_headers` as parameters: Plivo documents `k=v,k=v` for the attribute and shows `k=v;k=v`
 * in the start message, so both separators are accepted. Bounded (32 pairs); a "__proto__" name
 * stays a plain key.
 */
export function parseExtraHeaders(text: string): Readonly<Record<string, string>> {
  const pairs: Array<[string, string]> = [];
  for (const part of text.split(/[;,]/).slice(0, 32)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return Object.fromEntries(pairs);
}
