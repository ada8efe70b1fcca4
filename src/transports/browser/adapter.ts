/**
 * CallerTransport over the voicewire browser protocol v1 (docs/browser-protocol.md), server side
 * of a `ws` connection.
 *
 * Inbound: `hello` negotiates formats and the player window and raises `start` (PCM16 at the
 * playback rate; mic audio at another rate is resampled here so the session sees one format);
 * cumulative `played` reports and `sentence_played` acks of the current epoch are passed on, those
 * of older epochs are ignored; mic frames become `audio`. Every malformed message is answered with
 * a coded `error` and reported as `badInput`; the connection lives on (up to `maxBadInputs`),
 * except for a protocol version mismatch (close 4002).
 * Outbound: audio becomes binary frames (seq per epoch), sentence ends `sentence_end`, clears
 * `clear`. The first audio of an epoch newer than the client knows is preceded by a `clear`, so the
 * client never has to guess. Heartbeats and bufferedAmount watching belong to the server.
 */
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { AudioFormat } from '../../audio/format.js';
import { vwError, type VoicewireError } from '../../errors.js';
import type { CallStart, CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import {
  DEFAULT_MIC_RATE,
  DEFAULT_PLAYBACK_RATE,
  DEFAULT_WINDOW_MS,
  MAX_AUDIO_FRAME_MS,
  MAX_MIC_FRAME_MS,
  PROTOCOL_VERSION,
  clampWindowMs,
  decodeClientMessage,
  encodeControl,
  encodeFrame,
  errorMessageFor,
  type ClientMessage,
  type ConversationState,
  type HelloMessage,
  type ServerMessage,
  type StatsMessage,
  type TranscriptRole,
  type WireRate,
} from './codec.js';
import { MicInput } from './mic-input.js';
import { splitTranscript } from './transcript.js';

/** The subset of a pino logger the adapter uses. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BrowserTransportOptions {
  readonly logger?: TransportLogger;
  /** Id announced in `ready` and used as callId/streamId. Default: a random UUID. */
  readonly sessionId?: string;
  /** Window (ms) when `hello` has none. Default 800; clamped to 200–2000 like any request. */
  readonly defaultWindowMs?: number;
  /** Announced in `ready` (the server's WebSocket ping interval). Default 10000. */
  readonly heartbeatMs?: number;
  /** A connection that sends no `hello` within this time is closed (4005). Default 10000. */
  readonly helloTimeoutMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Parameters from the HTTP layer (e.g. the token's origin), added to `hello.parameters` (these win). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Epoch announced in `ready`. Default 0. */
  readonly initialEpoch?: number;
  readonly now?: () => number;
}

/** What `hello` settled. */
export interface BrowserNegotiation {
  /** PCM16 at the playback rate: the format of CallStart, in both directions. */
  readonly playback: AudioFormat;
  readonly playbackRate: WireRate;
  readonly micRate: WireRate;
  readonly windowMs: number;
}

/** Counters for tests and metrics (plain numbers: bounded state). */
export interface BrowserTransportStats {
  badInputs: number;
  framesSent: number;
  bytesSent: number;
  sentenceEndsSent: number;
  clearsSent: number;
  /** Clears sent because audio of a newer epoch arrived without one. */
  implicitClears: number;
  micFrames: number;
  /** Mic frames missing by sequence number (the client dropped them under backpressure). */
  micFramesMissing: number;
  /** Played reports and acks of an older epoch, ignored. */
  staleReports: number;
  /** Audio or sentence ends of an older epoch, dropped. */
  staleSends: number;
  /** Sends dropped because the socket was not open or hello had not arrived. */
  sendsDropped: number;
  /** Trailing odd bytes of outbound audio dropped (PCM16 needs whole samples). */
  oddBytesDropped: number;
}

/** Extra fields the session may fill in a `stats` message (the type is set here). */
export type BrowserStats = Omit<StatsMessage, 'type'>;

type TransportState = 'awaiting-hello' | 'ready' | 'closed';

const MAX_PENDING_EVENTS = 64;
const NOOP_LOGGER: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };
const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);
const U32_MAX = 0xffffffff;

function rawBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5). */
function closeReason(text: string): string {
  let reason = text.slice(0, 123);
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

function finiteOr(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.max(0, value);
}

export class BrowserTransport implements CallerTransport {
  readonly kind = 'browser' as const;
  readonly sessionId: string;
  private state: TransportState = 'awaiting-hello';
  private events: TransportEvents | undefined;
  private pending: Array<(events: TransportEvents) => void> = [];
  private readonly log: TransportLogger;
  private readonly options: BrowserTransportOptions;
  private readonly maxBadInputs: number;
  private readonly now: () => number;
  private helloTimer: NodeJS.Timeout | undefined;
  private negotiation: BrowserNegotiation | undefined;
  private mic: MicInput | undefined;

  /** The epoch the client was last told about (in `ready` or a `clear`). */
  private epoch: number;
  private seq = 0;
  private pingId = 0;
  private pingSentAt: number | undefined;
  private rtt: number | undefined;
  private readonly counters: Omit<BrowserTransportStats, 'micFrames' | 'micFramesMissing'> = {
    badInputs: 0, framesSent: 0, bytesSent: 0, sentenceEndsSent: 0, clearsSent: 0, implicitClears: 0,
    staleReports: 0, staleSends: 0, sendsDropped: 0, oddBytesDropped: 0,
  };

  private readonly onMessage = (data: RawData, isBinary: boolean): void => this.handleMessage(data, isBinary);
  private readonly onClose = (code: number, reason: Buffer): void => this.handleSocketClose(code, reason);
  private readonly onError = (err: Error): void => this.log.warn({ err, sessionId: this.sessionId }, 'browser socket error');
  private readonly onSent = (err?: Error): void => {
    if (err) this.log.debug({ err, sessionId: this.sessionId }, 'browser send failed');
  };

  /**
   * Takes over `ws` (an open, authenticated server-side socket). Reading is paused until `attach`,
   * so nothing is lost if the session attaches a little later.
   */
  constructor(
    private readonly ws: WebSocket,
    options: BrowserTransportOptions = {},
  ) {
    this.options = options;
    this.log = options.logger ?? NOOP_LOGGER;
    this.sessionId = options.sessionId ?? randomUUID();
    this.maxBadInputs = options.maxBadInputs ?? 50;
    this.now = options.now ?? Date.now;
    this.epoch = options.initialEpoch ?? 0;
    ws.binaryType = 'nodebuffer';
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    ws.pause();
    const helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
    this.helloTimer = setTimeout(() => this.onHelloTimeout(helloTimeoutMs), helloTimeoutMs);
    this.helloTimer.unref();
  }

  /** Formats and window settled by `hello` (undefined before it). */
  get negotiated(): BrowserNegotiation | undefined {
    return this.negotiation;
  }

  /** The epoch whose audio is being sent. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Round trip of the last answered `ping()` (ms), undefined before one. */
  get rttMs(): number | undefined {
    return this.rtt;
  }

  stats(): Readonly<BrowserTransportStats> {
    return { ...this.counters, micFrames: this.mic?.frames ?? 0, micFramesMissing: this.mic?.missing ?? 0 };
  }

  attach(events: TransportEvents): void {
    if (this.events !== undefined) throw new Error('BrowserTransport.attach called twice');
    this.events = events;
    const pending = this.pending;
    this.pending = [];
    for (const deliver of pending) deliver(events);
    if (this.state !== 'closed') this.ws.resume();
  }

  /** Binary audio frames of at most MAX_AUDIO_FRAME_MS each; seq counts frames within the epoch. */
  sendAudio(chunk: OutboundAudio): void {
    const session = this.readySession('sendAudio');
    if (session === undefined || !this.enterEpoch(chunk.epoch)) return;
    const sampleRate = session.playbackRate;
    let bytes = chunk.bytes;
    if (bytes.byteLength % 2 !== 0) {
      this.counters.oddBytesDropped++;
      bytes = bytes.subarray(0, bytes.byteLength - 1);
    }
    const maxBytes = (MAX_AUDIO_FRAME_MS * sampleRate * 2) / 1000;
    for (let offset = 0; offset < bytes.byteLength; offset += maxBytes) {
      const pcm = bytes.subarray(offset, Math.min(bytes.byteLength, offset + maxBytes));
      const frame = encodeFrame({
        kind: 'audio', sampleRate, epoch: chunk.epoch, seq: this.seq, sentenceId: chunk.sentenceId, pcm,
      });
      if (!this.sendRaw(frame)) return;
      this.seq = (this.seq + 1) % (U32_MAX + 1);
      this.counters.framesSent++;
      this.counters.bytesSent += pcm.byteLength;
    }
  }

  /** `sentence_end` after the sentence's last frame; the client answers `sentence_played` once it has played. */
  endSentence(epoch: number, sentenceId: number): void {
    if (this.readySession('endSentence') === undefined || !this.enterEpoch(epoch)) return;
    if (this.send({ type: 'sentence_end', epoch, sentenceId })) this.counters.sentenceEndsSent++;
  }

  /** `clear`: the client drops everything queued; what follows is `newEpoch`. Older epochs are refused. */
  clear(newEpoch: number): void {
    if (newEpoch <= this.epoch) {
      this.log.warn({ sessionId: this.sessionId, epoch: this.epoch, newEpoch }, 'clear to an epoch that is not newer; ignored');
      return;
    }
    this.epoch = newEpoch;
    this.seq = 0;
    if (this.readySession('clear') === undefined) return;
    if (this.send({ type: 'clear', epoch: newEpoch })) this.counters.clearsSent++;
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Closes the socket and raises `closed(code, reason)` once; later calls do nothing. */
  close(code: number, reason: string): void {
    this.endWith(code, reason, undefined);
  }

  /** `state` for the client's UI (listening / thinking / speaking). */
  sendState(state: ConversationState): void {
    if (this.readySession('state') !== undefined) this.send({ type: 'state', state });
  }

  /** `transcript` pieces (long text is split so each message stays under the 4 KiB bound). */
  sendTranscript(role: TranscriptRole, text: string, final: boolean): void {
    if (this.readySession('transcript') === undefined) return;
    const pieces = splitTranscript(text);
    pieces.forEach((piece, i) => this.send({ type: 'transcript', role, text: piece, final: final && i === pieces.length - 1 }));
  }

  /** `stats` for the client's readouts; `rttMs` defaults to this transport's own measurement. */
  sendStats(stats: BrowserStats): void {
    if (this.readySession('stats') === undefined) return;
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
    const rttMs = finiteOr(stats.rttMs ?? this.rtt);
    if (rttMs !== undefined) message.rttMs = rttMs;
    this.send(message);
  }

  /** Sends an application-level `ping`; the client's `pong` sets `rttMs`. One outstanding at a time. */
  ping(): void {
    if (this.readySession('ping') === undefined) return;
    this.pingId = (this.pingId + 1) % (U32_MAX + 1);
    this.pingSentAt = this.now();
    this.send({ type: 'ping', id: this.pingId, t: this.pingSentAt });
  }

  // ------------------------------------------------------------------------------------------
  // Outbound helpers

  /** The negotiation when messages may be sent now; otherwise counts a dropped send. */
  private readySession(action: string): BrowserNegotiation | undefined {
    if (this.state === 'ready' && this.negotiation !== undefined) return this.negotiation;
    this.counters.sendsDropped++;
    this.log.debug({ sessionId: this.sessionId, state: this.state, action }, 'browser session not ready; dropped');
    return undefined;
  }

  /** True when `epoch` may be sent now; a newer epoch is announced with a `clear` first. */
  private enterEpoch(epoch: number): boolean {
    if (epoch === this.epoch) return true;
    if (epoch < this.epoch) {
      this.counters.staleSends++;
      return false;
    }
    this.epoch = epoch;
    this.seq = 0;
    if (this.send({ type: 'clear', epoch })) {
      this.counters.clearsSent++;
      this.counters.implicitClears++;
    }
    return true;
  }

  private send(message: ServerMessage): boolean {
    return this.sendRaw(encodeControl(message));
  }

  /** Never throws: a closed or closing socket drops the message. */
  private sendRaw(data: string | Uint8Array): boolean {
    if (this.ws.readyState !== this.ws.OPEN) {
      this.counters.sendsDropped++;
      return false;
    }
    try {
      if (typeof data === 'string') this.ws.send(data, this.onSent);
      else this.ws.send(data, { binary: true }, this.onSent);
      return true;
    } catch (err) {
      this.counters.sendsDropped++;
      this.log.warn({ err, sessionId: this.sessionId }, 'browser send threw');
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
      this.log.error({ sessionId: this.sessionId }, 'event before attach dropped: pending queue full');
      return;
    }
    this.pending.push(deliver);
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const bytes = rawBytes(data);
    if (isBinary) return this.handleFrame(bytes);
    const result = decodeClientMessage(bytes);
    if (!result.ok) {
      if (result.error.code === 'VW_ERR_PROTOCOL_VERSION') {
        this.send(errorMessageFor(result.error, result.detail));
        return this.fail(result.error);
      }
      return this.reject(result.error, result.detail);
    }
    this.dispatch(result.message);
  }

  private dispatch(message: ClientMessage): void {
    if (message.type === 'hello') {
      if (this.state !== 'awaiting-hello') return this.reject(vwError('VW_ERR_DUPLICATE_HELLO'), 'hello');
      return this.handleHello(message);
    }
    if (this.state !== 'ready') return this.reject(vwError('VW_ERR_BEFORE_HELLO', message.type), message.type);
    switch (message.type) {
      case 'played':
        if (this.acceptEpoch(message.epoch)) {
          const { epoch, playedMs } = message;
          this.emit((events) => events.played(epoch, playedMs));
        }
        return;
      case 'sentence_played':
        if (this.acceptEpoch(message.epoch)) {
          const { epoch, sentenceId } = message;
          this.emit((events) => events.sentencePlayed(epoch, sentenceId));
        }
        return;
      case 'ping':
        this.send({ type: 'pong', id: message.id, t: message.t });
        return;
      case 'pong':
        if (message.id === this.pingId && this.pingSentAt !== undefined) {
          this.rtt = Math.max(0, this.now() - this.pingSentAt);
          this.pingSentAt = undefined;
        }
        return;
      case 'bye':
        this.log.info({ sessionId: this.sessionId, reason: message.reason }, 'browser said bye');
        return this.endWith(1000, 'bye', undefined);
    }
  }

  /** Reports of the current epoch pass; older ones are stale; a future epoch is a bad field. */
  private acceptEpoch(epoch: number): boolean {
    if (epoch === this.epoch) return true;
    if (epoch < this.epoch) {
      this.counters.staleReports++;
      return false;
    }
    this.reject(vwError('VW_ERR_BAD_FIELD', 'epoch'), 'epoch');
    return false;
  }

  private handleHello(hello: HelloMessage): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    const playbackRate = hello.playbackRate ?? DEFAULT_PLAYBACK_RATE;
    const micRate = hello.micRate ?? DEFAULT_MIC_RATE;
    const windowMs = clampWindowMs(hello.windowMs ?? this.options.defaultWindowMs ?? DEFAULT_WINDOW_MS);
    const playback: AudioFormat = { encoding: 'pcm16', sampleRate: playbackRate };
    this.negotiation = { playback, playbackRate, micRate, windowMs };
    this.mic = new MicInput(micRate, playbackRate);
    this.state = 'ready';
    const info: CallStart = {
      callId: this.sessionId,
      streamId: this.sessionId,
      parameters: { ...(hello.parameters ?? {}), ...(this.options.parameters ?? {}) },
      format: playback,
      creditWindowMs: windowMs,
    };
    this.log.info({ sessionId: this.sessionId, playbackRate, micRate, windowMs }, 'browser session started');
    // `ready` first: a session may send audio from inside `start`, and it must follow `ready`.
    this.send({
      type: 'ready',
      version: PROTOCOL_VERSION,
      sessionId: this.sessionId,
      playback: { encoding: 'pcm16', sampleRate: playbackRate },
      mic: { encoding: 'pcm16', sampleRate: micRate },
      epoch: this.epoch,
      windowMs,
      heartbeatMs: this.options.heartbeatMs ?? 10_000,
      maxMicFrameMs: MAX_MIC_FRAME_MS,
    });
    this.emit((events) => events.start(info));
  }

  private handleFrame(bytes: Uint8Array): void {
    const mic = this.mic;
    if (this.state !== 'ready' || mic === undefined) return this.reject(vwError('VW_ERR_BEFORE_HELLO', 'mic frame'), 'mic');
    const result = mic.accept(bytes);
    if ('refused' in result) return this.reject(result.refused.error, result.refused.reason);
    if (result.audio !== undefined) this.deliverAudio(result.audio.pcm, result.audio.durationMs);
  }

  private deliverAudio(pcm: Uint8Array, durationMs: number): void {
    if (this.events !== undefined) return this.events.audio(pcm, durationMs);
    // Before attach the bytes (a view of ws's or the resampler's buffer) must be copied to be queued.
    const copy = pcm.slice();
    this.emit((events) => events.audio(copy, durationMs));
  }

  private onHelloTimeout(timeoutMs: number): void {
    this.helloTimer = undefined;
    if (this.state !== 'awaiting-hello') return;
    const error = vwError('VW_ERR_HELLO_TIMEOUT', timeoutMs);
    this.send(errorMessageFor(error));
    this.fail(error);
  }

  /** Answers a malformed message with `error`; past `maxBadInputs` the connection is closed with 4003. */
  private reject(error: VoicewireError, detail?: string): void {
    this.counters.badInputs++;
    if (this.counters.badInputs > this.maxBadInputs) {
      const fatal = vwError('VW_ERR_TOO_MANY_BAD_INPUTS', this.counters.badInputs);
      this.send(errorMessageFor(fatal));
      return this.fail(fatal);
    }
    this.log.warn({ sessionId: this.sessionId, code: error.code, detail }, 'bad input from browser');
    this.send(errorMessageFor(error, detail));
    this.emit((events) => events.badInput(error));
  }

  private fail(error: VoicewireError): void {
    this.log.warn({ sessionId: this.sessionId, code: error.code }, 'closing browser session');
    this.endWith(error.closeCode ?? 1011, error.code, error);
  }

  private endWith(code: number, reason: string, error: VoicewireError | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    try {
      this.ws.close(code, closeReason(reason));
    } catch (err) {
      // An invalid code from the caller: do not leave the socket open because of it.
      this.log.warn({ err, sessionId: this.sessionId, code }, 'close failed; terminating');
      this.ws.terminate();
    }
    this.emit((events) => events.closed(code, reason, error));
  }

  private handleSocketClose(code: number, reason: Buffer): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    const text = reason.toString('utf8');
    const error = CLEAN_CLOSE_CODES.has(code) ? undefined : vwError('VW_ERR_CLOSED', `browser socket closed with ${code}`);
    this.log.info({ sessionId: this.sessionId, code, reason: text }, 'browser socket closed');
    this.emit((events) => events.closed(code, text, error));
  }
}
