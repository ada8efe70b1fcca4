/**
 * A protocol-faithful fake browser for tests: a real `ws` client speaking voicewire protocol v1.
 *
 * It sends `hello`, waits for `ready`, and then plays received audio in real time at the playback
 * rate through the SDK's own PlayerCore (ring bounded at the accepted window: frames over it are
 * counted, not stored), sends cumulative `played` reports every ~50 ms while audio plays and
 * `sentence_played` acks, honours `clear` and drops late frames of old epochs, answers pings, and
 * can send mic audio paced in real time. Everything it records is bounded.
 */
import { Conditions } from '../helpers/conditions.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, type RawData } from 'ws';
import { PlayerCore } from '../../client/src/player-core.js';
import {
  MAX_AUDIO_FRAME_MS,
  PROTOCOL_VERSION,
  decodeFrame,
  decodeServerMessage,
  encodeControl,
  encodeFrame,
  int16ToPcm,
  pcmToInt16,
  type ClientMessage,
  type ErrorMessage,
  type ReadyMessage,
  type ServerMessage,
  type WireRate,
} from '../../src/transports/browser/codec.js';

export interface FakeBrowserClientOptions {
  readonly playbackRate?: WireRate;
  readonly micRate?: WireRate;
  readonly windowMs?: number;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Played reports after this much output while playing. Default 50. */
  readonly reportEveryMs?: number;
  /** Playback clock tick. Default 10 ms. */
  readonly tickMs?: number;
  /** Deadline for the socket to open and `ready` to arrive. Default 5000 ms. */
  readonly readyTimeoutMs?: number;
  /** Extra HTTP headers on the upgrade request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A frame as the fake received it (header fields only). */
export interface ReceivedFrame {
  readonly epoch: number;
  readonly seq: number;
  readonly sentenceId: number;
  readonly samples: number;
  readonly result: 'accepted' | 'stale' | 'overflow';
}

interface HeardEntry {
  readonly at: number;
  readonly epoch: number;
  readonly samples: number;
}


const MAX_MESSAGES = 256;
const MAX_FRAMES = 256;
const MAX_HEARD = 12_000;
const MAX_EPOCHS = 64;
const MAX_CATCH_UP_MS = 1_000;

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}

export class FakeBrowserClient {
  readonly ws: WebSocket;
  readonly playbackRate: WireRate;
  readonly micRate: WireRate;
  /** The `ready` message (set once connected). */
  ready!: ReadyMessage;
  core!: PlayerCore;
  /** Control messages received (last 256), in order. */
  readonly messages: ServerMessage[] = [];
  /** `error` messages received (last 256). */
  readonly errors: ErrorMessage[] = [];
  /** Audio frames received (last 256), in order. */
  readonly frames: ReceivedFrame[] = [];
  /** Last played position reported per epoch (64 most recent epochs). */
  readonly playedByEpoch = new Map<number, number>();
  readonly sentReports: Array<{ readonly epoch: number; readonly playedMs: number; readonly at: number }> = [];
  readonly sentAcks: Array<{ readonly epoch: number; readonly sentenceId: number }> = [];
  clears = 0;
  /** When the last `clear` arrived (this fake's clock, `now()`): compare `heardSince` with it. */
  lastClearAt: number | undefined;
  /** Samples output while the player's epoch was older than the latest `clear` (must stay 0). */
  stalePlayedSamples = 0;
  framesReceived = 0;
  micFramesSent = 0;
  /** Malformed frames or messages from the server. */
  protocolErrors = 0;
  closeInfo: { readonly code: number; readonly reason: string } | undefined;
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;

  private readonly options: FakeBrowserClientOptions;
  private readonly heard: HeardEntry[] = [];
  private latestClearEpoch = 0;
  private clockStart = 0;
  private renderedTotal = 0;
  private pausedAt: number | undefined;
  private reporting = true;
  private ticker: NodeJS.Timeout | undefined;
  private scratch: Float32Array;
  private readonly conditions = new Conditions('fake browser');
  private micSeq = 0;

  private constructor(ws: WebSocket, options: FakeBrowserClientOptions) {
    this.ws = ws;
    this.options = options;
    this.playbackRate = options.playbackRate ?? 24000;
    this.micRate = options.micRate ?? 16000;
    this.scratch = new Float32Array(Math.ceil((this.playbackRate * MAX_CATCH_UP_MS) / 1000));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        this.stopClock();
        this.conditions.close(`closed (${code})`);
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
  }

  /** Opens `url`, sends `hello` and resolves once `ready` has arrived (playback starts then). */
  static async connect(url: string, options: FakeBrowserClientOptions = {}): Promise<FakeBrowserClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { ...options.headers } });
    const client = new FakeBrowserClient(ws, options);
    const timeoutMs = options.readyTimeoutMs ?? 5_000;
    await client.within(timeoutMs, 'socket open', new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    }));
    client.send({
      type: 'hello',
      version: PROTOCOL_VERSION,
      playbackRate: client.playbackRate,
      micRate: client.micRate,
      ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
      ...(options.parameters ? { parameters: options.parameters } : {}),
    });
    await client.waitUntil(() => client.ready !== undefined, timeoutMs, 'ready');
    return client;
  }

  /** Sends a control message. */
  send(message: ClientMessage): void {
    this.ws.send(encodeControl(message));
  }

  /** Sends raw data (text or binary) for malformed-input tests. */
  sendRaw(data: string | Uint8Array, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** Stops the playback clock (a stalled player): nothing plays, nothing is reported. */
  pause(): void {
    this.pausedAt ??= performance.now();
  }

  resume(): void {
    if (this.pausedAt === undefined) return;
    this.clockStart += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
  }

  /** Keeps playing but stops (or restarts) sending `played` reports and acks. */
  setReporting(on: boolean): void {
    this.reporting = on;
  }

  /**
   * This fake's clock (performance.now(), sub-millisecond): a playback tick in the same
   * millisecond as a clear must not count as "after" it, as it could with Date.now().
   */
  now(): number {
    return performance.now();
  }

  /** ms of audio output (of `epoch`, if given) since time `since` of this fake's clock (`now()`). */
  heardSince(since: number, epoch?: number): number {
    let samples = 0;
    for (const entry of this.heard) {
      if (entry.at >= since && (epoch === undefined || entry.epoch === epoch)) samples += entry.samples;
    }
    return (samples * 1000) / this.playbackRate;
  }

  get maxBufferedMs(): number {
    return (this.core.maxBufferedSamples * 1000) / this.playbackRate;
  }

  get bufferedMs(): number {
    return this.core.bufferedMs;
  }

  /** Sends `samples` as mic frames of `frameMs`, each at its real-time moment. */
  async sendMic(samples: Int16Array, options: { readonly frameMs?: number; readonly signal?: AbortSignal } = {}): Promise<void> {
    const perFrame = Math.round(((options.frameMs ?? 20) * this.micRate) / 1000);
    const start = performance.now();
    for (let offset = 0, k = 0; offset < samples.length; offset += perFrame, k++) {
      const wait = start + k * (options.frameMs ?? 20) - performance.now();
      if (wait > 0) await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const pcm = int16ToPcm(samples.subarray(offset, Math.min(samples.length, offset + perFrame)));
      this.ws.send(encodeFrame({ kind: 'mic', sampleRate: this.micRate, epoch: this.core.epoch, seq: this.micSeq, sentenceId: 0, pcm }));
      this.micSeq = (this.micSeq + 1) >>> 0;
      this.micFramesSent++;
    }
  }

  /** Resolves once `check()` holds (re-checked on every message and clock tick); rejects at the deadline. */
  waitUntil(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  /** Count of control messages received so far (a position for `waitForMessage`). */
  get messageIndex(): number {
    return this.messageCount;
  }

  /** The first control message of `type` matching `match`, received at or after position `since` (default: now). */
  async waitForMessage<T extends ServerMessage['type']>(
    type: T,
    timeoutMs: number,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    since: number = this.messageCount,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    let found: Extract<ServerMessage, { type: T }> | undefined;
    await this.waitUntil(() => {
      const firstKept = this.messageCount - this.messages.length;
      for (let i = Math.max(0, since - firstKept); i < this.messages.length; i++) {
        const m = this.messages[i];
        if (m?.type === type && match(m as Extract<ServerMessage, { type: T }>)) {
          found = m as Extract<ServerMessage, { type: T }>;
          return true;
        }
      }
      return false;
    }, timeoutMs, `message ${type}`);
    return found!;
  }

  /** Says `bye` and waits for the server to close. */
  async bye(timeoutMs = 2_000): Promise<{ readonly code: number; readonly reason: string }> {
    this.send({ type: 'bye', reason: 'test' });
    return this.within(timeoutMs, 'close after bye', this.closed);
  }

  /** Closes from the client side and waits for the close to complete. */
  async close(code = 1000, timeoutMs = 2_000): Promise<void> {
    this.stopClock();
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(code);
    await this.within(timeoutMs, 'close', this.closed).catch(() => this.ws.terminate());
  }

  // ------------------------------------------------------------------------------------------

  private messageCount = 0;

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (isBinary) this.onFrame(bytes);
    else this.onControl(bytes);
    this.conditions.notify();
  }

  private onFrame(bytes: Uint8Array): void {
    if (this.ready === undefined) {
      this.protocolErrors++;
      return;
    }
    const result = decodeFrame(bytes, { kind: 'audio', sampleRate: this.playbackRate, maxMs: MAX_AUDIO_FRAME_MS });
    if (!result.ok) {
      this.protocolErrors++;
      return;
    }
    const { epoch, seq, sentenceId, pcm } = result.frame;
    const samples = pcmToInt16(pcm);
    const pushed = this.core.push(epoch, sentenceId, samples);
    this.framesReceived++;
    push(this.frames, { epoch, seq, sentenceId, samples: samples.length, result: pushed }, MAX_FRAMES);
  }

  private onControl(bytes: Uint8Array): void {
    const result = decodeServerMessage(bytes);
    if (!result.ok) {
      this.protocolErrors++;
      return;
    }
    const message = result.message;
    this.messageCount++;
    push(this.messages, message, MAX_MESSAGES);
    switch (message.type) {
      case 'ready':
        if (this.ready !== undefined) {
          this.protocolErrors++;
          return;
        }
        this.ready = message;
        this.latestClearEpoch = message.epoch;
        this.core = new PlayerCore({ sampleRate: this.playbackRate, capacityMs: message.windowMs, epoch: message.epoch, reportEveryMs: this.options.reportEveryMs ?? 50 });
        this.startClock();
        return;
      case 'clear':
        if (this.ready === undefined) return;
        this.clears++;
        this.lastClearAt = performance.now();
        this.latestClearEpoch = Math.max(this.latestClearEpoch, message.epoch);
        this.core.clear(message.epoch);
        // As the real page does once its worklet flushed: position 0 of the new epoch = silent.
        this.send({ type: 'played', epoch: message.epoch, playedMs: 0 });
        return;
      case 'sentence_end':
        if (this.ready === undefined) return;
        this.core.sentenceEnd(message.epoch, message.sentenceId);
        this.flushReports();
        return;
      case 'ping':
        this.send({ type: 'pong', id: message.id, t: message.t });
        return;
      case 'error':
        push(this.errors, message, MAX_MESSAGES);
        return;
      default:
        return;
    }
  }

  private startClock(): void {
    this.clockStart = performance.now();
    this.renderedTotal = 0;
    this.ticker = setInterval(() => this.tick(), this.options.tickMs ?? 10);
  }

  private stopClock(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private tick(): void {
    if (this.pausedAt !== undefined) return;
    const now = performance.now();
    const due = Math.floor(((now - this.clockStart) * this.playbackRate) / 1000) - this.renderedTotal;
    if (due <= 0) return;
    // After a long event-loop stall a real device would have underrun, not played faster: skip ahead.
    const render = Math.min(due, this.scratch.length);
    this.renderedTotal += due;
    const out = this.scratch.subarray(0, render);
    const epoch = this.core.epoch;
    const played = this.core.render(out);
    if (played > 0) {
      if (epoch < this.latestClearEpoch) this.stalePlayedSamples += played;
      push(this.heard, { at: now, epoch, samples: played }, MAX_HEARD);
    }
    this.flushReports();
    this.conditions.notify();
  }

  private flushReports(): void {
    const report = this.core.takeReport();
    const acks = this.core.takeAcks();
    if (!this.reporting || this.ws.readyState !== WebSocket.OPEN) return;
    if (report !== undefined) {
      this.send({ type: 'played', epoch: report.epoch, playedMs: report.playedMs });
      this.playedByEpoch.set(report.epoch, report.playedMs);
      if (this.playedByEpoch.size > MAX_EPOCHS) this.playedByEpoch.delete(this.playedByEpoch.keys().next().value as number);
      push(this.sentReports, { ...report, at: performance.now() }, MAX_MESSAGES);
    }
    for (const ack of acks) {
      this.send({ type: 'sentence_played', epoch: ack.epoch, sentenceId: ack.sentenceId });
      push(this.sentAcks, ack, MAX_MESSAGES);
    }
  }

  private async within<T>(timeoutMs: number, what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fake browser: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
