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
import { vwError } from '../../errors.js';
import { NOOP_LOGGER, SocketLink, rawBytes, type LinkMoves, type TransportLogger } from '../socket-link.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../transport.js';
import {
  decodeClientMessage,
  encodeControl,
  errorMessageFor,
  type ClientMessage,
  type ConversationState,
  type HelloMessage,
  type ServerMessage,
  type TranscriptRole,
} from './codec.js';
import { MicInput } from './mic-input.js';
import { HelloDeadline, negotiate, type BrowserNegotiation } from './negotiation.js';
import { OutboundAudioPath } from './outbound-audio.js';
import type { BrowserTransportOptions, BrowserTransportStats } from './transport-options.js';
import { UiChannel, type BrowserStats } from './ui-messages.js';

export type { TransportLogger } from '../socket-link.js';
export type { BrowserNegotiation } from './negotiation.js';
export type { BrowserStats } from './ui-messages.js';
export type { BrowserTransportOptions, BrowserTransportStats } from './transport-options.js';

/** Phases of a session before it closes: `hello` makes it ready (SocketLink adds 'closed'). */
type BrowserPhase = 'awaiting-hello' | 'ready';
const MOVES: LinkMoves<BrowserPhase> = { 'awaiting-hello': ['ready'], ready: [] };

export class BrowserTransport implements CallerTransport {
  readonly kind = 'browser' as const;
  readonly sessionId: string;
  /** The socket, its state, pending events, sends, closing and bad-input accounting. */
  private readonly link: SocketLink<BrowserPhase>;
  private readonly log: TransportLogger;
  private readonly options: BrowserTransportOptions;
  private readonly now: () => number;
  /** Closes a connection that sends no `hello` in time. */
  private readonly helloDeadline: HelloDeadline;
  private negotiation: BrowserNegotiation | undefined;
  private mic: MicInput | undefined;
  /** `state`, `transcript`, `stats` and the RTT ping: the messages beside the audio. */
  private readonly ui: UiChannel;

  /** Frames, sentence ends and clears, with the epoch the client was last told about. */
  private readonly audio: OutboundAudioPath;
  /** Played reports and acks of an older epoch (the link, the mic input and the audio path count the rest). */
  private staleReports = 0;

  /**
   * Takes over `ws` (an open, authenticated server-side socket). Reading is paused until `attach`,
   * so nothing is lost if the session attaches a little later.
   */
  constructor(ws: WebSocket, options: BrowserTransportOptions = {}) {
    this.options = options;
    this.log = options.logger ?? NOOP_LOGGER;
    this.sessionId = options.sessionId ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.audio = new OutboundAudioPath(options.initialEpoch ?? 0, {
      sendFrame: (frame) => this.link.send(frame),
      sendControl: (message) => this.send(message),
    });
    // Before the link: a link that closed at once stops the deadline through `onClosing`.
    this.helloDeadline = new HelloDeadline(options.helloTimeoutMs ?? 10_000, (timeoutMs) => this.onHelloTimeout(timeoutMs));
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
      onClosing: () => this.helloDeadline.stop(),
    });
    this.ui = new UiChannel({
      isReady: (action) => this.readySession(action) !== undefined,
      send: (message) => this.send(message),
      now: this.now,
    });
  }

  /** Formats and window settled by `hello` (undefined before it). */
  get negotiated(): BrowserNegotiation | undefined {
    return this.negotiation;
  }

  /** The epoch whose audio is being sent. */
  get currentEpoch(): number {
    return this.audio.epoch;
  }

  /** Round trip of the last answered `ping()` (ms), undefined before one. */
  get rttMs(): number | undefined {
    return this.ui.rttMs;
  }

  stats(): Readonly<BrowserTransportStats> {
    return {
      badInputs: this.link.badInputs,
      ...this.audio.counters,
      staleReports: this.staleReports,
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
    if (session !== undefined) this.audio.sendAudio(chunk, session.playbackRate);
  }

  /** `sentence_end` after the sentence's last frame; the client answers `sentence_played` once it has played. */
  endSentence(epoch: number, sentenceId: number): void {
    if (this.readySession('endSentence') !== undefined) this.audio.endSentence(epoch, sentenceId);
  }

  /** `clear`: the client drops everything queued; what follows is `newEpoch`. Older epochs are refused. */
  clear(newEpoch: number): void {
    const epoch = this.audio.epoch;
    if (!this.audio.moveTo(newEpoch)) {
      this.log.warn({ sessionId: this.sessionId, epoch, newEpoch }, 'clear to an epoch that is not newer; ignored');
      return;
    }
    if (this.readySession('clear') !== undefined) this.audio.sendClear();
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
    this.ui.sendState(state);
  }

  /** `transcript` pieces (long text is split so each message stays under the 4 KiB bound). */
  sendTranscript(role: TranscriptRole, text: string, final: boolean): void {
    this.ui.sendTranscript(role, text, final);
  }

  /** `stats` for the client's readouts; `rttMs` defaults to this transport's own measurement. */
  sendStats(stats: BrowserStats): void {
    this.ui.sendStats(stats);
  }

  /** `transfer`: the agent hands the call on to `to`; false when the session is not ready. */
  sendTransfer(to: string): boolean {
    return this.readySession('transfer') !== undefined && this.send({ type: 'transfer', to });
  }

  /** Sends an application-level `ping`; the client's `pong` sets `rttMs`. One outstanding at a time. */
  ping(): void {
    this.ui.ping();
  }

  // ------------------------------------------------------------------------------------------
  // Outbound helpers

  /** The negotiation when messages may be sent now; otherwise counts a dropped send. */
  private readySession(action: string): BrowserNegotiation | undefined {
    if (this.link.state === 'ready' && this.negotiation !== undefined) return this.negotiation;
    this.link.dropSend({ action }, 'browser session not ready; dropped');
    return undefined;
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
        return this.ui.onPong(message.id);
      case 'bye':
        this.log.info({ sessionId: this.sessionId, reason: message.reason }, 'browser said bye');
        return this.link.close(1000, 'bye');
    }
  }

  /** Reports of the current epoch pass; older ones are stale; a future epoch is a bad field. */
  private acceptEpoch(epoch: number): boolean {
    if (epoch === this.audio.epoch) return true;
    if (epoch < this.audio.epoch) {
      this.staleReports++;
      return false;
    }
    this.link.reject(vwError('VW_ERR_BAD_FIELD', 'epoch'), 'epoch');
    return false;
  }

  private handleHello(hello: HelloMessage): void {
    this.helloDeadline.stop();
    const { negotiation, start, ready } = negotiate(hello, { ...this.options, sessionId: this.sessionId, epoch: this.audio.epoch });
    this.negotiation = negotiation;
    this.mic = new MicInput(negotiation.micRate, negotiation.playbackRate);
    this.link.enter('ready');
    const { playbackRate, micRate, windowMs } = negotiation;
    this.log.info({ sessionId: this.sessionId, playbackRate, micRate, windowMs }, 'browser session started');
    // `ready` first: a session may send audio from inside `start`, and it must follow `ready`.
    this.send(ready);
    this.link.emit((events) => events.start(start));
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
    if (this.link.state !== 'awaiting-hello') return;
    const error = vwError('VW_ERR_HELLO_TIMEOUT', timeoutMs);
    this.send(errorMessageFor(error));
    this.link.fail(error);
  }
}
