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
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawBytes, type LinkMoves, type TransportLogger } from '../socket-link.js';
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

export type { TransportLogger } from '../socket-link.js';

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

/** Phases of a session before it closes: `hello` makes it ready (SocketLink adds 'closed'). */
type BrowserPhase = 'awaiting-hello' | 'ready';
const MOVES: LinkMoves<BrowserPhase> = { 'awaiting-hello': ['ready'], ready: [] };

const U32_MAX = 0xffffffff;

function finiteOr(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.max(0, value);
}

export class BrowserTransport implements CallerTransport {
  readonly kind = 'browser' as const;
  readonly sessionId: string;
  /** The socket, its state, pending events, sends, closing and bad-input accounting. */
  private readonly link: SocketLink<BrowserPhase>;
  private readonly log: TransportLogger;
  private readonly options: BrowserTransportOptions;
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
  /** The link counts `badInputs` and `sendsDropped`; the mic input its frames. */
  private readonly counters: Omit<BrowserTransportStats, 'badInputs' | 'sendsDropped' | 'micFrames' | 'micFramesMissing'> = {
    framesSent: 0, bytesSent: 0, sentenceEndsSent: 0, clearsSent: 0, implicitClears: 0,
    staleReports: 0, staleSends: 0, oddBytesDropped: 0,
  };

  /**
   * Takes over `ws` (an open, authenticated server-side socket). Reading is paused until `attach`,
   * so nothing is lost if the session attaches a little later.
   */
  constructor(ws: WebSocket, options: BrowserTransportOptions = {}) {
    this.options = options;
    this.log = options.logger ?? NOOP_LOGGER;
    this.sessionId = options.sessionId ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.epoch = options.initialEpoch ?? 0;
    this.link = new SocketLink(ws, {
      label: 'browser',
      owner: 'BrowserTransport',
      initial: 'awaiting-hello',
      moves: MOVES,
      logger: this.log,
      logContext: () => ({ sessionId: this.sessionId }),
      maxBadInputs: options.maxBadInputs,
      failReason: 'code',
      onMessage: (data, isBinary) => this.handleMessage(data, isBinary),
      answer: (error, detail) => this.send(errorMessageFor(error, detail)),
      onClosing: () => this.stopHelloTimer(),
    });
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
    return {
      badInputs: this.link.badInputs,
      ...this.counters,
      sendsDropped: this.link.sendsDropped,
      micFrames: this.mic?.frames ?? 0,
      micFramesMissing: this.mic?.missing ?? 0,
    };
  }

  attach(events: TransportEvents): void {
    this.link.attach(events);
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
      if (!this.link.send(frame)) return;
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
    return this.link.bufferedAmount();
  }

  /** Closes the socket and raises `closed(code, reason)` once; later calls do nothing. */
  close(code: number, reason: string): void {
    this.link.close(code, reason);
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
    if (this.link.state === 'ready' && this.negotiation !== undefined) return this.negotiation;
    this.link.dropSend({ action }, 'browser session not ready; dropped');
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

  /** A control message; never throws (the link drops it when the socket is not open). */
  private send(message: ServerMessage): boolean {
    return this.link.send(encodeControl(message));
  }

  // ------------------------------------------------------------------------------------------
  // Inbound (the link passes messages on only while it is not closed)

  private handleMessage(data: RawData, isBinary: boolean): void {
    const bytes = rawBytes(data);
    if (isBinary) return this.handleFrame(bytes);
    const result = decodeClientMessage(bytes);
    if (!result.ok) {
      if (result.error.code === 'VW_ERR_PROTOCOL_VERSION') {
        this.send(errorMessageFor(result.error, result.detail));
        return this.link.fail(result.error);
      }
      return this.link.reject(result.error, result.detail);
    }
    this.dispatch(result.message);
  }

  private dispatch(message: ClientMessage): void {
    if (message.type === 'hello') {
      if (this.link.state !== 'awaiting-hello') return this.link.reject(vwError('VW_ERR_DUPLICATE_HELLO'), 'hello');
      return this.handleHello(message);
    }
    if (this.link.state !== 'ready') return this.link.reject(vwError('VW_ERR_BEFORE_HELLO', message.type), message.type);
    switch (message.type) {
      case 'played':
        if (this.acceptEpoch(message.epoch)) {
          const { epoch, playedMs } = message;
          this.link.emit((events) => events.played(epoch, playedMs));
        }
        return;
      case 'sentence_played':
        if (this.acceptEpoch(message.epoch)) {
          const { epoch, sentenceId } = message;
          this.link.emit((events) => events.sentencePlayed(epoch, sentenceId));
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
        return this.link.close(1000, 'bye');
    }
  }

  /** Reports of the current epoch pass; older ones are stale; a future epoch is a bad field. */
  private acceptEpoch(epoch: number): boolean {
    if (epoch === this.epoch) return true;
    if (epoch < this.epoch) {
      this.counters.staleReports++;
      return false;
    }
    this.link.reject(vwError('VW_ERR_BAD_FIELD', 'epoch'), 'epoch');
    return false;
  }

  private handleHello(hello: HelloMessage): void {
    this.stopHelloTimer();
    const playbackRate = hello.playbackRate ?? DEFAULT_PLAYBACK_RATE;
    const micRate = hello.micRate ?? DEFAULT_MIC_RATE;
    const windowMs = clampWindowMs(hello.windowMs ?? this.options.defaultWindowMs ?? DEFAULT_WINDOW_MS);
    const playback: AudioFormat = { encoding: 'pcm16', sampleRate: playbackRate };
    this.negotiation = { playback, playbackRate, micRate, windowMs };
    this.mic = new MicInput(micRate, playbackRate);
    this.link.enter('ready');
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
    this.link.emit((events) => events.start(info));
  }

  private handleFrame(bytes: Uint8Array): void {
    const mic = this.mic;
    if (this.link.state !== 'ready' || mic === undefined) return this.link.reject(vwError('VW_ERR_BEFORE_HELLO', 'mic frame'), 'mic');
    const result = mic.accept(bytes);
    if ('refused' in result) return this.link.reject(result.refused.error, result.refused.reason);
    // Before attach the link queues a copy: the bytes are a view of ws's or the resampler's buffer.
    if (result.audio !== undefined) this.link.emitAudio(result.audio.pcm, result.audio.durationMs);
  }

  private onHelloTimeout(timeoutMs: number): void {
    this.helloTimer = undefined;
    if (this.link.state !== 'awaiting-hello') return;
    const error = vwError('VW_ERR_HELLO_TIMEOUT', timeoutMs);
    this.send(errorMessageFor(error));
    this.link.fail(error);
  }

  private stopHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }
}
