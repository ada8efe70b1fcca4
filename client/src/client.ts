/**
 * VoicewireClient: the browser end of the voicewire protocol v1 (docs/browser-protocol.md).
 *
 * One call = one `start()`: it opens the player and the mic (from a user gesture), then connects:
 * fresh token → WebSocket → `hello` → `ready` → audio both ways. Played reports and sentence acks
 * come from the player worklet's audio clock; a dropped connection is retried with backoff, each
 * attempt with a fresh token, and a fresh player (the new session's epochs start over).
 */
import {
  DEFAULT_MIC_RATE,
  DEFAULT_PLAYBACK_RATE,
  DEFAULT_WINDOW_MS,
  MAX_AUDIO_FRAME_MS,
  PROTOCOL_VERSION,
  decodeFrame,
  decodeServerMessage,
  encodeControl,
  pcmToInt16,
  type ClientMessage,
  type ReadyMessage,
  type ServerMessage,
  type WireRate,
} from '../../src/transports/browser/codec.js';
import type { AudioPlayer } from './audio-player.js';
import { openCallAudio } from './call-audio.js';
import type { VoicewireClientOptions, VoicewireEvents } from './client-options.js';
import { CallFigures } from './client-stats.js';
import { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import type { MicCapture } from './mic-capture.js';
import { MicUplink } from './mic-uplink.js';
import { Pinger } from './pinger.js';
import type { ClientState, ClientStats } from './stats.js';

export type { SessionInfo, VoicewireClientOptions, VoicewireEvents } from './client-options.js';

export class VoicewireClient extends Emitter<VoicewireEvents> {
  private readonly options: VoicewireClientOptions;
  private readonly playbackRate: WireRate;
  private readonly micRate: WireRate;
  /** State, socket, connect deadline and reconnects. */
  private readonly connection: Connection;
  private player: AudioPlayer | undefined;
  private mic: MicCapture | undefined;
  private ready: ReadyMessage | undefined;
  private epoch = 0;
  private readonly uplink: MicUplink;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private readonly pinger: Pinger;
  private readonly figures: CallFigures;

  constructor(options: VoicewireClientOptions = {}) {
    super();
    this.options = options;
    this.playbackRate = options.playbackRate ?? DEFAULT_PLAYBACK_RATE;
    this.micRate = options.micRate ?? DEFAULT_MIC_RATE;
    const frameMs = options.micFrameMs ?? 20;
    this.connection = new Connection(options, {
      hello: () => this.hello(),
      control: (text, endDeadline) => this.onControl(text, endDeadline),
      frame: (bytes) => this.onFrame(bytes),
      socketClosed: () => this.onSocketClosed(),
      closed: (event) => this.emit('closed', event),
      error: (event) => this.emit('error', event),
      finish: () => void this.shutdown(),
    });
    this.pinger = new Pinger({
      everyMs: options.pingEveryMs ?? 2_000,
      maxUnanswered: 3,
      send: (id, t) => this.sendIfReady({ type: 'ping', id, t }),
      onDead: () => this.connection.drop(4000, 'no pong'),
    });
    this.uplink = new MicUplink({
      rate: this.micRate,
      maxFrames: Math.max(1, Math.round((options.micQueueMs ?? 200) / frameMs)),
      maxSocketBufferedBytes: options.maxSocketBufferedBytes ?? 32 * 1024,
    });
    this.figures = new CallFigures(this.playbackRate);
  }

  get state(): ClientState {
    return this.connection.state;
  }

  /** Opens audio (call from a user gesture), then connects. Resolves once connecting has begun. */
  async start(): Promise<void> {
    if (this.state !== 'idle' && this.state !== 'closed') return;
    this.connection.enter('starting');
    try {
      // Called before any await: the audio contexts must be created inside the user's gesture.
      const audio = await openCallAudio({
        playbackRate: this.playbackRate,
        micRate: this.micRate,
        mic: this.options.mic !== false,
        micFrameMs: this.options.micFrameMs ?? 20,
        workletBaseUrl: this.options.workletBaseUrl ?? new URL('./', import.meta.url),
        player: {
          played: (epoch, playedMs) => this.sendPlayed(epoch, playedMs),
          sentencePlayed: (epoch, sentenceId) => this.sendIfReady({ type: 'sentence_played', epoch, sentenceId }),
          cleared: (epoch, droppedMs, silenceMs) => this.onCleared(epoch, droppedMs, silenceMs),
          playing: (playing) => this.onPlaying(playing),
          status: (status) => this.figures.onStatus(status),
        },
        onMicFrame: (samples) => this.onMicFrame(samples),
      });
      this.player = audio.player;
      this.mic = audio.mic;
    } catch (err) {
      await this.shutdown();
      this.connection.enter('closed');
      this.emit('error', { code: 'VW_ERR_AUDIO', message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.statsTimer = setInterval(() => this.emit('stats', this.stats()), this.options.statsEveryMs ?? 250);
    this.connection.connect();
  }

  /** Says `bye`, closes the socket and releases the mic and the player. */
  async stop(): Promise<void> {
    if (this.state === 'closed' || this.state === 'idle') return;
    // `bye` first: sendIfReady sends only in the `ready` state, which `closed` ends.
    this.sendIfReady({ type: 'bye', reason: 'user' });
    this.connection.enter('closed');
    this.connection.socket?.close(1000, 'bye');
    await this.shutdown();
    this.emit('closed', { code: 1000, reason: 'stopped', willReconnect: false });
  }

  /** A snapshot of the call's figures. */
  stats(): ClientStats {
    return this.figures.snapshot({
      state: this.state,
      sessionId: this.ready?.sessionId ?? null,
      epoch: this.epoch,
      windowMs: this.ready?.windowMs ?? this.options.windowMs ?? DEFAULT_WINDOW_MS,
      rttMs: this.pinger.rttMs,
      micFramesSent: this.uplink.sent,
      micFramesDropped: this.uplink.dropped,
      reconnects: this.connection.reconnects,
    });
  }

  // ------------------------------------------------------------------------------------------
  // Inbound (the connection passes on only what the current socket received)

  private hello(): ClientMessage {
    return {
      type: 'hello',
      version: PROTOCOL_VERSION,
      playbackRate: this.playbackRate,
      micRate: this.micRate,
      windowMs: this.options.windowMs ?? DEFAULT_WINDOW_MS,
      ...(this.options.parameters ? { parameters: this.options.parameters } : {}),
    };
  }

  private onControl(text: string, endDeadline: () => void): void {
    const result = decodeServerMessage(text);
    if (!result.ok) {
      this.figures.onProtocolError();
      this.emit('error', { code: result.error.code, message: result.error.message, ...(result.detail ? { detail: result.detail } : {}) });
      return;
    }
    const message: ServerMessage = result.message;
    switch (message.type) {
      case 'ready':
        endDeadline();
        return this.onReady(message);
      case 'clear':
        if (message.epoch > this.epoch) this.epoch = message.epoch;
        return this.player?.clear(message.epoch);
      case 'sentence_end':
        return this.player?.sentenceEnd(message.epoch, message.sentenceId);
      case 'transcript':
        return this.emit('transcript', { role: message.role, text: message.text, final: message.final });
      case 'state':
        return this.emit('state', { state: message.state });
      case 'stats':
        return this.figures.onServerStats(message.creditMs, message.serverBufferedMs);
      case 'error':
        return this.emit('error', { code: message.code, message: message.message, ...(message.detail ? { detail: message.detail } : {}) });
      case 'transfer':
        return this.emit('transfer', { to: message.to });
      case 'ping':
        this.sendIfReady({ type: 'pong', id: message.id, t: message.t });
        return;
      case 'pong':
        return this.pinger.onPong(message.id);
    }
  }

  private onReady(ready: ReadyMessage): void {
    if (this.state !== 'awaiting-ready' || !this.player) return;
    if (ready.playback.sampleRate !== this.playbackRate || ready.mic.sampleRate !== this.micRate) {
      // v1 servers use the rates asked for or refuse them; anything else cannot be fixed by retrying.
      this.emit('error', { code: 'VW_ERR_BAD_FIELD', message: 'server chose other sample rates than asked', detail: 'playback' });
      return this.connection.end(1000, 'rates');
    }
    this.figures.newPlayer();
    this.ready = ready;
    this.epoch = ready.epoch;
    this.uplink.restart();
    this.connection.connected();
    this.player.configure(ready.epoch, ready.windowMs, this.options.reportEveryMs ?? 50);
    this.pinger.start();
    this.emit('connected', { sessionId: ready.sessionId, playbackRate: ready.playback.sampleRate, micRate: ready.mic.sampleRate, windowMs: ready.windowMs, epoch: ready.epoch });
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.state !== 'ready' || !this.player) {
      this.figures.onProtocolError(); // audio before `ready` breaks the protocol: the player is not sized yet
      return;
    }
    const result = decodeFrame(bytes, { kind: 'audio', sampleRate: this.playbackRate, maxMs: MAX_AUDIO_FRAME_MS });
    if (!result.ok) {
      this.figures.onProtocolError();
      this.emit('error', { code: result.error.code, message: result.error.message, detail: result.reason });
      return;
    }
    const frame = result.frame;
    this.player.push(frame.epoch, frame.sentenceId, pcmToInt16(frame.pcm));
  }

  private onSocketClosed(): void {
    this.pinger.stop();
    this.ready = undefined;
    this.uplink.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Outbound

  private sendIfReady(message: ClientMessage): boolean {
    const ws = this.connection.socket;
    if (this.state !== 'ready' || ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeControl(message));
    return true;
  }

  private sendPlayed(epoch: number, playedMs: number): void {
    if (this.sendIfReady({ type: 'played', epoch, playedMs })) this.figures.onReportSent();
  }

  private onMicFrame(samples: Int16Array): void {
    this.uplink.send(this.state === 'ready' ? this.connection.socket : undefined, this.epoch, samples);
  }

  // ------------------------------------------------------------------------------------------
  // Player events

  private onCleared(epoch: number, droppedMs: number, silenceMs: number | undefined): void {
    // Position 0 of the clear's epoch: tells the gateway the player is silent (its barge-in →
    // silence figure is measured from this report).
    this.sendPlayed(epoch, 0);
    // A clear that dropped nothing found the player silent already: no barge-in to measure.
    if (droppedMs <= 0) return;
    this.figures.onBargeIn(silenceMs);
    this.emit('interrupted', { epoch, droppedMs, silenceMs: silenceMs ?? null });
  }

  private onPlaying(playing: boolean): void {
    this.figures.onPlaying(playing);
    this.emit('speaking', { speaking: playing });
  }

  // ------------------------------------------------------------------------------------------
  // Housekeeping

  private async shutdown(): Promise<void> {
    this.connection.cancel();
    this.pinger.stop();
    if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    const mic = this.mic;
    const player = this.player;
    this.mic = undefined;
    this.player = undefined;
    await Promise.allSettled([mic?.stop(), player?.close()]);
  }
}
