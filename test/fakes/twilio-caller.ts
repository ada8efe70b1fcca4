/**
 * A fake Twilio caller over a real `ws` client: what Twilio Media Streams does on a bidirectional
 * `<Connect><Stream>`, as documented (/work/shared/protocols.md §3), so server tests see the real
 * protocol and real time.
 *
 * - Sends `connected`, `start` (MZ…/CA…/AC… sids, customParameters), then 20 ms `media` frames
 *   paced by absolute time at exactly 8000 samples/s: silence (0xFF), or speech given to
 *   `sendSpeech`. `sequenceNumber`, `chunk` and `timestamp` are digit strings.
 * - Plays what the server sends in real time (TwilioPlayer): echoes each mark when the audio before
 *   it has played, echoes every pending mark at once on `clear`.
 * - Records everything for assertions in bounded rings, and checks every server message as Twilio
 *   would (unknown event, wrong streamSid, missing or extra fields, bad base64, binary frames):
 *   `violations` should stay empty.
 *
 * It builds and checks JSON itself (twilio-wire.ts) and encodes μ-law with alawmulaw: it shares no
 * code with the gateway's codec, so a mistake there cannot hide behind the same mistake here.
 *
 * The same fake plays the carriers that copied Twilio's protocol: a `wire` option (caller-wire.ts)
 * gives it another carrier's message shapes, audio encoding (PCM16 for Exotel), flush behaviour
 * and outbound size rule (signalwire-caller.ts, telnyx-caller.ts, exotel-caller.ts).
 */
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { WebSocket, type RawData } from 'ws';
import { Ring, TwilioPlayer, type DryPeriod, type EchoCause, type PlayerEcho } from './twilio-player.js';
import { TWILIO_WIRE } from './twilio-wire.js';
import type { CallIds, CallerWire } from './caller-wire.js';
import { Conditions } from '../helpers/conditions.js';

export { Ring, type DryPeriod, type EchoCause } from './twilio-player.js';

const FRAME_MS = 20;
const FRAME_SAMPLES = 160;

export interface FakeTwilioCallerOptions {
  /** The carrier dialect spoken (default Twilio): SignalWire, Telnyx and Exotel fakes pass theirs. */
  readonly wire?: CallerWire;
  /** Extra headers on the upgrade request (e.g. `X-Twilio-Signature`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly streamSid?: string;
  readonly callSid?: string;
  readonly accountSid?: string;
  readonly customParameters?: Readonly<Record<string, string>>;
  /** Merged over the `start` object's fields (to test odd or broken starts). */
  readonly startOverrides?: Readonly<Record<string, unknown>>;
  /** Send `connected` + `start` once open (default true); otherwise call `sendStart()`. */
  readonly autoStart?: boolean;
  /** Stream silence frames while not speaking (default true, as Twilio does). */
  readonly sendSilence?: boolean;
  /** Stop reading the socket right after `start` (default false); see `pauseReading`. */
  readonly readPaused?: boolean;
  /** Resolution of the player and frame clock (default 10 ms). */
  readonly tickMs?: number;
  /** Capacity of the received-message log (default 20 000). */
  readonly logCap?: number;
  /** Bytes of played audio kept (default 30 s). */
  readonly playedAudioCap?: number;
  /** Most audio the player buffers (default 10 min); more is dropped and logged as a violation. */
  readonly maxBufferedMs?: number;
  readonly connectTimeoutMs?: number;
}

/** One message received from the server. */
export interface ReceivedEntry {
  readonly at: number;
  /** `media`, `mark`, `clear`, another event name, `binary` or `invalid`. */
  readonly event: string;
  /** Decoded payload bytes (media). */
  readonly bytes?: number;
  /** Mark name. */
  readonly name?: string;
  /** ms buffered in the player right after this message was handled. */
  readonly bufferedMs: number;
  /** Set when Twilio would reject or warn about this message; it was then not acted on. */
  readonly violation?: string;
}

export interface EchoEntry extends PlayerEcho {
  /** When the echo was sent (≥ dueAt by at most one tick). */
  readonly at: number;
}

export interface ClearEntry {
  readonly at: number;
  readonly droppedMs: number;
  readonly flushedMarks: number;
}

export interface Violation {
  readonly at: number;
  readonly kind: string;
  readonly detail: string;
}


interface Speech {
  readonly samples: Int16Array;
  offset: number;
  readonly done: () => void;
  readonly fail: (err: Error) => void;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** `ms` of a sine tone as 8 kHz PCM16 (speech stand-in for `sendSpeech`). */
export function toneSamples(ms: number, frequencyHz = 440, amplitude = 8000): Int16Array {
  const samples = new Int16Array(Math.round(ms * 8));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / 8000));
  return samples;
}

export class FakeTwilioCaller {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  /** Received messages, newest `logCap` kept (`received.total` counts all). */
  readonly received: Ring<ReceivedEntry>;
  readonly echoes = new Ring<EchoEntry>(10_000);
  readonly clears = new Ring<ClearEntry>(1000);
  readonly violations = new Ring<Violation>(1000);
  /** Socket errors (e.g. a reset when the server terminates); not protocol violations. */
  readonly socketErrors = new Ring<{ at: number; message: string }>(100);
  /** Largest buffered ms seen right after a receive. */
  maxBufferedMs = 0;
  /** 20 ms frames the clock has produced since `start` (sent, or skipped as silence when `sendSilence` is false). */
  framesSent = 0;
  /** `media` messages sent, injected ones included (the `chunk` of the last one). */
  mediaSent = 0;
  closeInfo: { code: number; reason: string; at: number } | undefined;
  /** Headers of the server's 101 answer (e.g. a load balancer's X-Served-By). */
  upgradeHeaders: Readonly<Record<string, string | string[] | undefined>> = {};

  private readonly t0 = performance.now();
  private readonly player: TwilioPlayer;
  private readonly wire: CallerWire;
  private readonly ids: CallIds;
  private readonly frame: Uint8Array;
  private readonly pcm = new Int16Array(FRAME_SAMPLES);
  private readonly speech: Speech[] = [];
  private readonly conditions = new Conditions('fake twilio');
  private sequence = 0;
  private streamStartAt: number | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticks = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: FakeTwilioCallerOptions,
  ) {
    this.wire = options.wire ?? TWILIO_WIRE;
    const ids = this.wire.newIds();
    this.streamSid = options.streamSid ?? ids.streamId;
    this.callSid = options.callSid ?? ids.callId;
    this.accountSid = options.accountSid ?? ids.accountId;
    this.ids = { streamId: this.streamSid, callId: this.callSid, accountId: this.accountSid };
    this.frame = new Uint8Array(FRAME_SAMPLES * (this.wire.encoding === 'pcmu' ? 1 : 2));
    this.received = new Ring(options.logCap ?? 20_000);
    this.player = new TwilioPlayer({
      onEcho: (echo) => this.echo(echo),
      bytesPerMs: this.wire.encoding === 'pcmu' ? 8 : 16,
      clearMarks: this.wire.clearMarks,
      ...(options.maxBufferedMs === undefined ? {} : { maxBufferedMs: options.maxBufferedMs }),
      ...(options.playedAudioCap === undefined ? {} : { playedAudioCap: options.playedAudioCap }),
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));
    ws.on('error', (err: Error) => this.socketErrors.push({ at: this.now(), message: err.message.slice(0, 200) }));
  }

  /**
   * Connects to `url` (e.g. `ws://127.0.0.1:<port>/twilio/media`) and, unless `autoStart` is false,
   * sends `connected` and `start`. Rejects on a refused upgrade (`err.statusCode`) or after
   * `connectTimeoutMs` (default 5 s).
   */
  static async connect(url: string, options: FakeTwilioCallerOptions = {}): Promise<FakeTwilioCaller> {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { ...options.headers } });
    let upgradeHeaders: FakeTwilioCaller['upgradeHeaders'] = {};
    ws.once('upgrade', (res) => (upgradeHeaders = res.headers));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`fake twilio: no connection to ${url} within deadline`));
      }, options.connectTimeoutMs ?? 5000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        ws.terminate();
        reject(Object.assign(new Error(`fake twilio: upgrade refused with ${res.statusCode}`), { statusCode: res.statusCode }));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const caller = new FakeTwilioCaller(ws, options);
    caller.upgradeHeaders = upgradeHeaders;
    if (options.autoStart ?? true) caller.sendStart();
    return caller;
  }

  /** ms since this caller was created: the clock of every `at` in the logs. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** The player's clock: real time while open, frozen at the close (nothing plays after hang-up). */
  private playerNow(): number {
    return this.closeInfo?.at ?? this.now();
  }

  get playedMs(): number {
    this.player.advance(this.playerNow());
    return this.player.playedMs;
  }

  get bufferedMs(): number {
    this.player.advance(this.playerNow());
    return this.player.bufferedMs;
  }

  /** ms of audio cleared without playing. */
  get clearedMs(): number {
    return this.player.clearedBytes / this.player.bytesPerMs;
  }

  /** Stretches with nothing to play after playback began (`drained` = underrun, or `clear`). */
  get dryPeriods(): DryPeriod[] {
    this.player.advance(this.playerNow());
    return this.player.dryPeriods.toArray();
  }

  /** Underruns only: the buffer ran dry while playing (the test decides if the model was speaking). */
  get underruns(): DryPeriod[] {
    return this.dryPeriods.filter((d) => d.cause === 'drained');
  }

  /** When `start` was sent (this caller's clock): media frame k is due at streamStartedAt + k × 20 ms. */
  get streamStartedAt(): number | undefined {
    return this.streamStartAt;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** ms of audio played after time `t` (this caller's clock). */
  heardSince(t: number): number {
    this.player.advance(this.playerNow());
    return this.player.heardSince(t);
  }

  /** The last played μ-law bytes (up to `playedAudioCap`), oldest first. */
  playedAudio(): Uint8Array {
    this.player.advance(this.playerNow());
    return this.player.playedAudio();
  }

  /** Echoes sent so far whose cause is `cause`. */
  echoesBy(cause: EchoCause): EchoEntry[] {
    return this.echoes.toArray().filter((e) => e.cause === cause);
  }

  sendConnected(): void {
    const connected = this.wire.connected();
    if (connected !== undefined) this.sendJson(connected);
  }

  /** Sends `connected` + `start` and starts the media clock (done by `connect` unless autoStart is false). */
  sendStart(): void {
    if (this.streamStartAt !== undefined) throw new Error('fake twilio: start already sent');
    this.sendConnected();
    this.sendJson(this.wire.start(this.ids, this.nextSequence(), { ...this.options.customParameters }, { ...this.options.startOverrides }));
    this.streamStartAt = this.now();
    if (this.options.readPaused === true) this.pauseReading();
    this.scheduleTick();
  }

  /**
   * Speaks `samples` (8 kHz PCM16) at real-time pace after anything already queued, then returns
   * to silence. Resolves when the last frame holding them was sent; rejects if the call ends first.
   */
  sendSpeech(samples: Int16Array): Promise<void> {
    if (this.speech.length >= 32) return Promise.reject(new Error('fake twilio: speech queue full'));
    if (!this.isOpen) return Promise.reject(new Error('fake twilio: closed'));
    return new Promise((resolve, reject) => {
      this.speech.push({ samples, offset: 0, done: resolve, fail: reject });
    });
  }

  get speaking(): boolean {
    return this.speech.length > 0;
  }

  sendDtmf(digit: string): void {
    this.sendJson(this.wire.dtmf(this.ids, this.nextSequence(), digit));
  }

  /** A mark echo the server never asked for (forged or stale names). */
  sendMarkEcho(name: string): void {
    this.sendJson(this.wire.markEcho(this.ids, this.nextSequence(), name));
  }

  /** One media frame of raw μ-law bytes outside the clock (for malformed-input tests). */
  sendMediaBytes(bytes: Uint8Array, overrides: Readonly<Record<string, unknown>> = {}): void {
    this.mediaSent++;
    const timestamp = String(Math.round(this.now() - (this.streamStartAt ?? 0)));
    this.sendJson({ ...this.wire.media(this.ids, this.nextSequence(), String(this.mediaSent), timestamp, Buffer.from(bytes).toString('base64')), ...overrides });
  }

  sendJson(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** Injects raw text (garbage, truncated JSON …). */
  sendRaw(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  /** Injects a binary frame (Twilio never sends one). */
  sendBinary(bytes: Uint8Array): void {
    if (this.isOpen) this.ws.send(bytes, { binary: true });
  }

  /** Stops reading the socket (ws `pause()`): the server's sends back up in its buffers. */
  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  /**
   * Resolves once `check()` is true, re-checked after every received message, every tick and at
   * close; rejects after `timeoutMs`, or at close if it is still false.
   */
  waitUntil(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  /** Resolves with the close code and reason (rejects after `timeoutMs`). */
  async waitForClose(timeoutMs: number): Promise<{ code: number; reason: string }> {
    if (this.closeInfo === undefined) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fake twilio: not closed within ${timeoutMs} ms`)), timeoutMs);
        this.ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const info = this.closeInfo ?? { code: 1006, reason: '' };
    return { code: info.code, reason: info.reason };
  }

  /** Hangs up as Twilio does: `stop`, then a normal close; resolves once closed (≤ timeoutMs, then terminates). */
  async stop(timeoutMs = 2000): Promise<void> {
    if (!this.isOpen) return;
    this.sendJson(this.wire.stop(this.ids, this.nextSequence()));
    this.ws.close(1000);
    try {
      await this.waitForClose(timeoutMs);
    } catch {
      this.ws.terminate();
    }
  }

  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  // ------------------------------------------------------------------------------------------

  private nextSequence(): string {
    this.sequence++;
    return String(this.sequence);
  }

  /** One timer on an absolute grid: late ticks catch up instead of drifting. */
  private scheduleTick(): void {
    if (this.closeInfo !== undefined || this.streamStartAt === undefined) return;
    const tickMs = this.options.tickMs ?? 10;
    this.ticks++;
    const due = this.streamStartAt + this.ticks * tickMs;
    const now = this.now();
    if (due < now) this.ticks = Math.floor((now - this.streamStartAt) / tickMs);
    this.tickTimer = setTimeout(() => this.tick(), Math.max(0, due - now));
  }

  private tick(): void {
    this.tickTimer = undefined;
    if (this.closeInfo !== undefined || this.streamStartAt === undefined) return;
    const now = this.now();
    const due = Math.floor((now - this.streamStartAt) / FRAME_MS);
    while (this.framesSent < due && this.isOpen) this.sendFrame();
    this.player.advance(now);
    this.conditions.notify();
    this.scheduleTick();
  }

  private sendFrame(): void {
    const speech = this.speech[0];
    if (speech === undefined && this.options.sendSilence === false) {
      this.framesSent++;
      return;
    }
    this.pcm.fill(0);
    if (speech !== undefined) {
      const n = Math.min(FRAME_SAMPLES, speech.samples.length - speech.offset);
      this.pcm.set(speech.samples.subarray(speech.offset, speech.offset + n));
      speech.offset += n;
    }
    if (this.wire.encoding === 'pcmu') this.frame.set(alawmulaw.mulaw.encode(this.pcm));
    else this.frame.set(new Uint8Array(this.pcm.buffer, this.pcm.byteOffset, this.pcm.byteLength));
    const timestamp = this.framesSent * FRAME_MS;
    this.framesSent++;
    this.mediaSent++;
    this.sendJson(this.wire.media(this.ids, this.nextSequence(), String(this.mediaSent), String(timestamp), Buffer.from(this.frame).toString('base64')));
    if (speech !== undefined && speech.offset >= speech.samples.length) {
      this.speech.shift();
      speech.done();
    }
  }

  private echo(echo: PlayerEcho): void {
    this.echoes.push({ ...echo, at: this.now() });
    this.sendMarkEcho(echo.name);
  }

  private violation(kind: string, detail: string): string {
    this.violations.push({ at: this.now(), kind, detail: detail.slice(0, 200) });
    return kind;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const at = this.now();
    this.player.advance(at);
    const entry = isBinary ? { event: 'binary', violation: this.violation('binary-frame', 'server sent a binary frame') } : this.handleText(rawText(data), at);
    const bufferedMs = this.player.bufferedMs;
    this.maxBufferedMs = Math.max(this.maxBufferedMs, bufferedMs);
    this.received.push({ at, bufferedMs, ...entry });
    this.conditions.notify();
  }

  /** Reads one server message as Twilio would (twilio-wire.ts), then acts on it. */
  private handleText(text: string, at: number): Omit<ReceivedEntry, 'at' | 'bufferedMs'> {
    const msg = this.wire.read(text, this.ids);
    if ('violation' in msg) return { event: msg.event, violation: this.violation(msg.violation, msg.detail) };
    if ('bytes' in msg) {
      const unit = this.wire.mediaUnitBytes;
      if (msg.bytes.length % unit !== 0) this.violation('media-size', `${msg.bytes.length} bytes is not a multiple of ${unit}`);
      const dropped = this.player.enqueueAudio(msg.bytes, at);
      if (dropped > 0) this.violation('buffer-overflow', `${dropped} bytes dropped`);
      return { event: msg.event, bytes: msg.bytes.length };
    }
    if ('name' in msg) {
      if (!this.player.enqueueMark(msg.name, at)) this.violation('too-many-marks', msg.name);
      return { event: msg.event, name: msg.name };
    }
    const { droppedBytes, flushedMarks } = this.player.clear(at);
    this.clears.push({ at, droppedMs: droppedBytes / this.player.bytesPerMs, flushedMarks });
    return { event: msg.event };
  }

  private onClose(code: number, reason: string): void {
    const at = this.now();
    this.player.advance(at);
    this.closeInfo = { code, reason, at };
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    for (const speech of this.speech.splice(0)) speech.fail(new Error('fake twilio: closed while speaking'));
    this.conditions.close(`closed (${code})`);
  }
}
