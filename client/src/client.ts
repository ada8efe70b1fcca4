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
  encodeFrame,
  int16ToPcm,
  pcmToInt16,
  type ClientMessage,
  type ConversationState,
  type ReadyMessage,
  type ServerMessage,
  type TranscriptRole,
  type WireRate,
} from '../../src/transports/browser/codec.js';
import { AudioPlayer } from './audio-player.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { IntervalMeter } from './interval-meter.js';
import { MicCapture } from './mic-capture.js';
import { OutboundQueue } from './outbound-queue.js';
import { Pinger } from './pinger.js';
import type { PlayerCounters } from './player-core.js';
import { addCounters, zeroCounters, type ClientState, type ClientStats } from './stats.js';
import type { PlayerStatus } from './worklet-messages.js';

export interface SessionInfo {
  readonly token: string;
  /** ws:// or wss:// URL (or a path, resolved against the page); the token is added as `?token=`. */
  readonly wsUrl: string;
  readonly expiresAt?: number;
}

export interface VoicewireClientOptions {
  /** A fresh token for each (re)connection. Default: POST `sessionUrl`. */
  readonly getSession?: (signal: AbortSignal) => Promise<SessionInfo>;
  /** Where the default getSession POSTs. Default '/session'. */
  readonly sessionUrl?: string;
  readonly playbackRate?: WireRate;
  readonly micRate?: WireRate;
  /** Player window asked for (ms); the server clamps it to 200–2000. Default 800. */
  readonly windowMs?: number;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Folder holding player-worklet.js and mic-worklet.js. Default: next to this module. */
  readonly workletBaseUrl?: string | URL;
  /** Capture the mic. Default true. */
  readonly mic?: boolean;
  readonly micFrameMs?: number;
  /** Mic audio held while the uplink is slow (ms); oldest dropped past it. Default 200. */
  readonly micQueueMs?: number;
  /** Mic frames wait while the socket holds more than this. Default 32 KiB. */
  readonly maxSocketBufferedBytes?: number;
  readonly reportEveryMs?: number;
  /** App-level ping interval (RTT, liveness: 3 unanswered → reconnect). Default 2000. */
  readonly pingEveryMs?: number;
  /** Deadline for token + connect + `ready`. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect policy; false: never. Default 250 ms → 10 s, 8 attempts. */
  readonly reconnect?: (BackoffOptions & { readonly maxAttempts?: number }) | false;
  /** How often `stats` is emitted. Default 250 ms. */
  readonly statsEveryMs?: number;
}

export interface VoicewireEvents {
  connected: { readonly sessionId: string; readonly playbackRate: number; readonly micRate: number; readonly windowMs: number; readonly epoch: number };
  closed: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  speaking: { readonly speaking: boolean };
  interrupted: { readonly epoch: number; readonly droppedMs: number; readonly silenceMs: number | null };
  stats: ClientStats;
  transcript: { readonly role: TranscriptRole; readonly text: string; readonly final: boolean };
  state: { readonly state: ConversationState };
  error: { readonly code: string; readonly message: string; readonly detail?: string };
}

/** Codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4002]);
const SERVER_STATS_FRESH_MS = 2_000;

async function postForSession(url: string, signal: AbortSignal): Promise<SessionInfo> {
  const res = await fetch(url, { method: 'POST', signal, headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as Partial<SessionInfo>;
  if (typeof body.token !== 'string' || typeof body.wsUrl !== 'string') throw new Error(`POST ${url}: no token or wsUrl`);
  return { token: body.token, wsUrl: body.wsUrl };
}

export class VoicewireClient extends Emitter<VoicewireEvents> {
  private stateValue: ClientState = 'idle';
  private readonly options: VoicewireClientOptions;
  private readonly playbackRate: WireRate;
  private readonly micRate: WireRate;
  private player: AudioPlayer | undefined;
  private mic: MicCapture | undefined;
  private ws: WebSocket | undefined;
  private ready: ReadyMessage | undefined;
  private epoch = 0;
  private micSeq = 0;
  private readonly outbound: OutboundQueue;
  private attempts = 0;
  private reconnects = 0;
  private connectAbort: AbortController | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private readonly pinger: Pinger;
  private status: PlayerStatus | undefined;
  private carried: PlayerCounters = zeroCounters();
  private maxBufferedSamples = 0;
  private serverStats: { creditMs: number; serverBufferedMs: number; at: number } | undefined;
  private lastBargeIn: number | null = null;
  private bargeIns = 0;
  private reportsSent = 0;
  private readonly reportIntervals = new IntervalMeter();
  private protocolErrors = 0;
  private micDroppedWhileClosed = 0;

  constructor(options: VoicewireClientOptions = {}) {
    super();
    this.options = options;
    this.playbackRate = options.playbackRate ?? DEFAULT_PLAYBACK_RATE;
    this.micRate = options.micRate ?? DEFAULT_MIC_RATE;
    const frameMs = options.micFrameMs ?? 20;
    this.pinger = new Pinger({
      everyMs: options.pingEveryMs ?? 2_000,
      maxUnanswered: 3,
      send: (id, t) => this.sendIfReady({ type: 'ping', id, t }),
      onDead: () => this.dropSocket(4000, 'no pong'),
    });
    this.outbound = new OutboundQueue({
      maxFrames: Math.max(1, Math.round((options.micQueueMs ?? 200) / frameMs)),
      maxSocketBufferedBytes: options.maxSocketBufferedBytes ?? 32 * 1024,
    });
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** Opens audio (call from a user gesture), then connects. Resolves once connecting has begun. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle' && this.stateValue !== 'closed') return;
    this.stateValue = 'starting';
    const base = this.options.workletBaseUrl ?? new URL('./', import.meta.url);
    // Both contexts are created and resumed now, inside the user's gesture: autoplay policies
    // (Safari's especially) only let a context start from one.
    const playerContext = new AudioContext({ sampleRate: this.playbackRate, latencyHint: 'interactive' });
    const micContext = this.options.mic === false ? undefined : new AudioContext({ sampleRate: this.micRate, latencyHint: 'interactive' });
    const resumed = Promise.allSettled([playerContext.resume(), micContext?.resume()]);
    try {
      await resumed;
      this.player = await AudioPlayer.create({
        context: playerContext,
        workletUrl: new URL('player-worklet.js', base),
        handlers: {
          played: (epoch, playedMs) => this.sendPlayed(epoch, playedMs),
          sentencePlayed: (epoch, sentenceId) => this.sendIfReady({ type: 'sentence_played', epoch, sentenceId }),
          cleared: (epoch, droppedMs, silenceMs) => this.onCleared(epoch, droppedMs, silenceMs),
          playing: (playing) => this.onPlaying(playing),
          status: (status) => this.onStatus(status),
        },
      });
      if (micContext !== undefined) {
        this.mic = await MicCapture.start({
          context: micContext,
          rate: this.micRate,
          frameMs: this.options.micFrameMs ?? 20,
          workletUrl: new URL('mic-worklet.js', base),
          onFrame: (samples) => this.onMicFrame(samples),
        });
      }
    } catch (err) {
      await this.shutdown();
      // A context whose owner failed to start is still open: close it here.
      for (const context of [playerContext, micContext]) {
        if (context !== undefined && context.state !== 'closed') await context.close().catch(() => undefined);
      }
      this.stateValue = 'closed';
      this.emit('error', { code: 'VW_ERR_AUDIO', message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.statsTimer = setInterval(() => this.emit('stats', this.stats()), this.options.statsEveryMs ?? 250);
    this.connect();
  }

  /** Says `bye`, closes the socket and releases the mic and the player. */
  async stop(): Promise<void> {
    if (this.stateValue === 'closed' || this.stateValue === 'idle') return;
    this.stateValue = 'closed';
    this.sendIfReady({ type: 'bye', reason: 'user' });
    this.ws?.close(1000, 'bye');
    await this.shutdown();
    this.emit('closed', { code: 1000, reason: 'stopped', willReconnect: false });
  }

  /** A snapshot of the call's figures. */
  stats(): ClientStats {
    const rate = this.playbackRate;
    const counters = addCounters(this.carried, this.status?.counters ?? zeroCounters());
    const windowMs = this.ready?.windowMs ?? this.options.windowMs ?? DEFAULT_WINDOW_MS;
    const bufferedMs = ((this.status?.bufferedSamples ?? 0) * 1000) / rate;
    const fresh = this.serverStats !== undefined && performance.now() - this.serverStats.at < SERVER_STATS_FRESH_MS;
    return {
      state: this.stateValue,
      sessionId: this.ready?.sessionId ?? null,
      epoch: this.epoch,
      bufferedMs,
      maxBufferedMs: (this.maxBufferedSamples * 1000) / rate,
      playedMs: ((this.status?.playedSamples ?? 0) * 1000) / rate,
      windowMs,
      creditMs: fresh && this.serverStats ? this.serverStats.creditMs : Math.max(0, windowMs - bufferedMs),
      serverBufferedMs: fresh && this.serverStats ? this.serverStats.serverBufferedMs : null,
      rttMs: this.pinger.rttMs,
      lastBargeInMs: this.lastBargeIn,
      bargeIns: this.bargeIns,
      framesDroppedStale: counters.framesStale,
      framesOverflow: counters.framesOverflow,
      underruns: counters.underruns,
      reportsSent: this.reportsSent,
      reportIntervalMeanMs: this.reportIntervals.meanMs ?? null,
      reportIntervalMaxMs: this.reportIntervals.maxMs ?? null,
      micFramesSent: this.outbound.sent,
      micFramesDropped: this.outbound.dropped + this.micDroppedWhileClosed,
      reconnects: this.reconnects,
      protocolErrors: this.protocolErrors,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Connection

  private connect(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'connecting';
    const abort = new AbortController();
    this.connectAbort = abort;
    const deadline = this.later(this.options.connectTimeoutMs ?? 10_000, () => {
      abort.abort();
      if (this.stateValue === 'connecting' || this.stateValue === 'awaiting-ready') this.dropSocket(4000, 'connect timeout');
    });
    const getSession = this.options.getSession ?? ((signal: AbortSignal) => postForSession(this.options.sessionUrl ?? '/session', signal));
    getSession(abort.signal).then(
      (session) => {
        if (abort.signal.aborted || this.stateValue !== 'connecting') return;
        this.open(session, deadline);
      },
      (err: unknown) => {
        if (this.stateValue !== 'connecting') return;
        this.emit('error', { code: 'VW_ERR_SESSION', message: err instanceof Error ? err.message : String(err) });
        this.clearTimer(deadline);
        this.scheduleReconnect(4000, 'session request failed');
      },
    );
  }

  private open(session: SessionInfo, deadline: ReturnType<typeof setTimeout>): void {
    const url = new URL(session.wsUrl, location.href);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    url.searchParams.set('token', session.token);
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.stateValue = 'awaiting-ready';
      const hello: ClientMessage = {
        type: 'hello',
        version: PROTOCOL_VERSION,
        playbackRate: this.playbackRate,
        micRate: this.micRate,
        windowMs: this.options.windowMs ?? DEFAULT_WINDOW_MS,
        ...(this.options.parameters ? { parameters: this.options.parameters } : {}),
      };
      ws.send(encodeControl(hello));
    };
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (ws !== this.ws) return;
      if (typeof event.data === 'string') this.onControl(event.data, deadline);
      else this.onFrame(new Uint8Array(event.data));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.clearTimer(deadline);
      this.onSocketClosed(event.code, event.reason);
    };
  }

  private onControl(text: string, deadline: ReturnType<typeof setTimeout>): void {
    const result = decodeServerMessage(text);
    if (!result.ok) {
      this.protocolErrors++;
      this.emit('error', { code: result.error.code, message: result.error.message, ...(result.detail ? { detail: result.detail } : {}) });
      return;
    }
    const message: ServerMessage = result.message;
    switch (message.type) {
      case 'ready':
        this.clearTimer(deadline);
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
        this.serverStats = { creditMs: message.creditMs, serverBufferedMs: message.serverBufferedMs, at: performance.now() };
        return;
      case 'error':
        return this.emit('error', { code: message.code, message: message.message, ...(message.detail ? { detail: message.detail } : {}) });
      case 'ping':
        this.sendIfReady({ type: 'pong', id: message.id, t: message.t });
        return;
      case 'pong':
        return this.pinger.onPong(message.id);
    }
  }

  private onReady(ready: ReadyMessage): void {
    if (this.stateValue !== 'awaiting-ready' || !this.player) return;
    if (ready.playback.sampleRate !== this.playbackRate || ready.mic.sampleRate !== this.micRate) {
      // v1 servers use the rates asked for or refuse them; anything else cannot be fixed by retrying.
      this.emit('error', { code: 'VW_ERR_BAD_FIELD', message: 'server chose other sample rates than asked', detail: 'playback' });
      this.stateValue = 'closed';
      this.ws?.close(1000, 'rates');
      this.ws = undefined;
      this.emit('closed', { code: 1000, reason: 'rates', willReconnect: false });
      void this.shutdown();
      return;
    }
    if (this.status) this.carried = addCounters(this.carried, this.status.counters);
    this.status = undefined;
    this.ready = ready;
    this.epoch = ready.epoch;
    this.micSeq = 0;
    this.stateValue = 'ready';
    if (this.attempts > 0) this.reconnects++;
    this.attempts = 0;
    this.player.configure(ready.epoch, ready.windowMs, this.options.reportEveryMs ?? 50);
    this.pinger.start();
    this.emit('connected', { sessionId: ready.sessionId, playbackRate: ready.playback.sampleRate, micRate: ready.mic.sampleRate, windowMs: ready.windowMs, epoch: ready.epoch });
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.stateValue !== 'ready' || !this.player) {
      this.protocolErrors++; // audio before `ready` breaks the protocol: the player is not sized yet
      return;
    }
    const result = decodeFrame(bytes, { kind: 'audio', sampleRate: this.playbackRate, maxMs: MAX_AUDIO_FRAME_MS });
    if (!result.ok) {
      this.protocolErrors++;
      this.emit('error', { code: result.error.code, message: result.error.message, detail: result.reason });
      return;
    }
    const frame = result.frame;
    this.player.push(frame.epoch, frame.sentenceId, pcmToInt16(frame.pcm));
  }

  private onSocketClosed(code: number, reason: string): void {
    this.pinger.stop();
    this.ws = undefined;
    this.ready = undefined;
    this.outbound.clear();
    if (this.stateValue === 'closed') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stateValue = 'closed';
      this.emit('closed', { code, reason, willReconnect: false });
      void this.shutdown();
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code: number, reason: string): void {
    const policy = this.options.reconnect;
    const maxAttempts = policy === false ? 0 : (policy?.maxAttempts ?? 8);
    if (this.attempts >= maxAttempts) {
      this.stateValue = 'closed';
      this.emit('closed', { code, reason, willReconnect: false });
      void this.shutdown();
      return;
    }
    this.emit('closed', { code, reason, willReconnect: true });
    this.stateValue = 'backoff';
    const delay = backoffDelay(this.attempts, policy === false ? {} : policy);
    this.attempts++;
    this.later(delay, () => this.connect());
  }

  /** Closes the current socket from our side (code 4000–4999) and reconnects. */
  private dropSocket(code: number, reason: string): void {
    const ws = this.ws;
    if (ws === undefined) {
      this.scheduleReconnect(code, reason);
      return;
    }
    this.ws = undefined;
    ws.close(code, reason);
    this.onSocketClosed(code, reason);
  }

  // ------------------------------------------------------------------------------------------
  // Outbound

  private sendIfReady(message: ClientMessage): boolean {
    const ws = this.ws;
    if (this.stateValue !== 'ready' || ws === undefined || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeControl(message));
    return true;
  }

  private sendPlayed(epoch: number, playedMs: number): void {
    if (!this.sendIfReady({ type: 'played', epoch, playedMs })) return;
    this.reportsSent++;
    this.reportIntervals.note(performance.now());
  }

  private onMicFrame(samples: Int16Array): void {
    const ws = this.ws;
    if (this.stateValue !== 'ready' || ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.micDroppedWhileClosed++;
      return;
    }
    const frame = encodeFrame({ kind: 'mic', sampleRate: this.micRate, epoch: this.epoch, seq: this.micSeq, sentenceId: 0, pcm: int16ToPcm(samples) });
    this.micSeq = (this.micSeq + 1) >>> 0;
    this.outbound.push(frame);
    this.outbound.flush(ws);
  }

  // ------------------------------------------------------------------------------------------
  // Player events

  private onCleared(epoch: number, droppedMs: number, silenceMs: number | undefined): void {
    // A clear that dropped nothing found the player silent already: no barge-in to measure.
    if (droppedMs <= 0) return;
    this.bargeIns++;
    if (silenceMs !== undefined) this.lastBargeIn = silenceMs;
    this.emit('interrupted', { epoch, droppedMs, silenceMs: silenceMs ?? null });
  }

  private onPlaying(playing: boolean): void {
    if (!playing) this.reportIntervals.pause();
    this.emit('speaking', { speaking: playing });
  }

  private onStatus(status: PlayerStatus): void {
    this.status = status;
    if (status.maxBufferedSamples > this.maxBufferedSamples) this.maxBufferedSamples = status.maxBufferedSamples;
  }

  // ------------------------------------------------------------------------------------------
  // Housekeeping

  private later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private async shutdown(): Promise<void> {
    this.connectAbort?.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
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
