/**
 * What every fake carrier caller shares, whatever its wire dialect (Plivo JSON, Vonage binary
 * frames): a real `ws` client socket; caller audio in 20 ms frames paced by absolute time at
 * exactly the stream's sample rate (silence, or speech given to `sendSpeech`); a player
 * (twilio-player.ts) that plays what the gateway sends at exactly the sample rate and reports when
 * the audio before a marker has played; bounded logs of everything received, of flushes and of
 * protocol violations for assertions; and a condition waiter re-checked on every message and tick.
 *
 * A subclass supplies the dialect: how a frame of caller audio goes on the wire (`sendFrame`), how
 * a received message is read and acted on (`onText` / `onBinary`), and how the carrier acknowledges
 * a marker whose audio has played (`onMarkerPlayed`). A flush is `flushAndAcknowledge`: what the
 * carrier does with the markers it dropped is not documented (Plivo, Vonage), so it is a policy.
 * It encodes μ-law with alawmulaw and PCM16 by hand, sharing no code with the gateway.
 */
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { WebSocket, type RawData } from 'ws';
export { from8k, openSocket, toneAt } from './caller-socket.js';
import { Ring, TwilioPlayer, type ClearMarkPolicy, type DryPeriod, type PlayerEcho } from './twilio-player.js';
import { Conditions } from '../helpers/conditions.js';

export const FRAME_MS = 20;

export interface CallerFormat {
  readonly encoding: 'pcmu' | 'pcm16';
  readonly sampleRate: 8000 | 16000;
}

export interface PacedCallerOptions {
  readonly format: CallerFormat;
  /** Resolution of the player and frame clock (default 10 ms). */
  readonly tickMs?: number;
  /** Stream silence frames while not speaking (default true, as carriers do). */
  readonly sendSilence?: boolean;
  /** Capacity of the received-message log (default 20 000). */
  readonly logCap?: number;
  /** Most audio the player buffers (default 10 min); more is dropped and logged as a violation. */
  readonly maxBufferedMs?: number;
  /** Bytes of played audio kept (default 30 s). */
  readonly playedAudioCap?: number;
  /** What the player's flush does with pending markers (default: acknowledges them, cause `clear`). */
  readonly clearMarks?: ClearMarkPolicy;
}

export interface ReceivedEntry {
  readonly at: number;
  /** The message's event/action name, `audio` for audio, or `invalid`. */
  readonly event: string;
  readonly bytes?: number;
  readonly name?: string;
  /** ms buffered in the player right after this message was handled. */
  readonly bufferedMs: number;
  readonly violation?: string;
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

/** What a flush does with the markers it dropped: nothing, or acknowledge them before or after the flush's own acknowledgement. */
export type FlushedMarkerPolicy = 'drop' | 'before' | 'after';

/** What a subclass reports about one received message. */
export type Handled = Omit<ReceivedEntry, 'at' | 'bufferedMs'>;

interface Speech {
  readonly samples: Int16Array;
  offset: number;
  readonly done: () => void;
  readonly fail: (err: Error) => void;
}

function rawBytes(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

export abstract class PacedCaller {
  readonly received: Ring<ReceivedEntry>;
  readonly clears = new Ring<ClearEntry>(1000);
  readonly violations = new Ring<Violation>(1000);
  readonly socketErrors = new Ring<{ at: number; message: string }>(100);
  /** Markers whose audio played (or that a flush reached), as the player reported them. */
  readonly markers = new Ring<PlayerEcho & { at: number }>(10_000);
  maxBufferedMs = 0;
  framesSent = 0;
  /**
   * How late the frame clock's timer fired, at worst, and when (ms after the clock started): the
   * longest stretch in which this process ran nothing (CPU starvation, a long GC), for telling an
   * underrun the gateway caused from one the machine caused.
   */
  readonly clockStall = { maxLateMs: 0, at: 0 };
  /** Every time the frame clock fired more than 40 ms late: when it was due, and by how much. */
  readonly stalls = new Ring<{ at: number; lateMs: number }>(200);
  closeInfo: { code: number; reason: string; at: number } | undefined;

  protected readonly player: TwilioPlayer;
  protected readonly conditions: Conditions;
  readonly format: CallerFormat;
  readonly frameSamples: number;
  readonly bytesPerMs: number;
  private readonly t0 = performance.now();
  private readonly pcm: Int16Array;
  private readonly speech: Speech[] = [];
  private clockStartAt: number | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  /** Markers the flush under way dropped (only while `flushAndAcknowledge` runs). */
  private flushedMarkers: string[] | undefined;
  private tickDueAt = 0;

  protected constructor(
    protected readonly ws: WebSocket,
    private readonly base: PacedCallerOptions,
    label: string,
  ) {
    this.format = base.format;
    this.frameSamples = (base.format.sampleRate * FRAME_MS) / 1000;
    this.bytesPerMs = (base.format.sampleRate / 1000) * (base.format.encoding === 'pcmu' ? 1 : 2);
    this.pcm = new Int16Array(this.frameSamples);
    this.received = new Ring(base.logCap ?? 20_000);
    this.conditions = new Conditions(label);
    this.player = new TwilioPlayer({
      bytesPerMs: this.bytesPerMs,
      onEcho: (echo) => {
        // A carrier's media clock runs on while its marks play: the frames due before the mark
        // played go out before its echo, even when this process ran late (a starved CPU) and
        // catches up on both at once. The caller's audio thus dates each echo as a carrier's does.
        this.sendFramesDueBy(echo.dueAt);
        this.markers.push({ ...echo, at: this.now() });
        if (echo.cause === 'played') this.onMarkerPlayed(echo.name);
        else this.flushedMarkers?.push(echo.name);
      },
      ...(base.maxBufferedMs === undefined ? {} : { maxBufferedMs: base.maxBufferedMs }),
      ...(base.playedAudioCap === undefined ? {} : { playedAudioCap: base.playedAudioCap }),
      ...(base.clearMarks === undefined ? {} : { clearMarks: base.clearMarks }),
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.handleMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.handleClose(code, reason.toString('utf8')));
    ws.on('error', (err: Error) => this.socketErrors.push({ at: this.now(), message: err.message.slice(0, 200) }));
  }

  /** Puts one frame of caller audio (already in the wire format) on the socket. */
  protected abstract sendFrame(frame: Uint8Array, index: number): void;
  /** Reads a text message from the gateway and acts on it. */
  protected abstract onText(text: string, at: number): Handled;
  /** Reads a binary message from the gateway and acts on it. */
  protected abstract onBinary(bytes: Uint8Array, at: number): Handled;
  /** The audio before a marker has played: acknowledge it as the carrier does. */
  protected abstract onMarkerPlayed(name: string): void;

  now(): number {
    return performance.now() - this.t0;
  }

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

  get dryPeriods(): DryPeriod[] {
    this.player.advance(this.playerNow());
    return this.player.dryPeriods.toArray();
  }

  get underruns(): DryPeriod[] {
    return this.dryPeriods.filter((d) => d.cause === 'drained');
  }

  /** Underruns that began before the last audio arrived (the model was still speaking). */
  underrunsWhileSpeaking(): number {
    const last = this.received.toArray().filter((r) => r.bytes !== undefined).at(-1)?.at ?? 0;
    return this.underruns.filter((u) => u.start < last).length;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** When the frame clock started (this caller's clock): frame k is due at clockStartedAt + k × 20 ms. */
  get clockStartedAt(): number | undefined {
    return this.clockStartAt;
  }

  heardSince(t: number): number {
    this.player.advance(this.playerNow());
    return this.player.heardSince(t);
  }

  /** The last played bytes of gateway audio (wire format), oldest first. */
  playedAudio(): Uint8Array {
    this.player.advance(this.playerNow());
    return this.player.playedAudio();
  }

  /** Speaks `samples` (PCM16 at the stream's rate) at real-time pace after anything queued. */
  sendSpeech(samples: Int16Array): Promise<void> {
    if (this.speech.length >= 32) return Promise.reject(new Error('fake caller: speech queue full'));
    if (!this.isOpen) return Promise.reject(new Error('fake caller: closed'));
    return new Promise((resolve, reject) => this.speech.push({ samples, offset: 0, done: resolve, fail: reject }));
  }

  /** True while speech given to `sendSpeech` is still being sent. */
  get speaking(): boolean {
    return this.speech.length > 0;
  }

  waitUntil(check: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  async waitForClose(timeoutMs: number): Promise<{ code: number; reason: string }> {
    await this.conditions.until(() => this.closeInfo !== undefined, timeoutMs, 'close').catch((err: unknown) => {
      if (this.closeInfo === undefined) throw err;
    });
    const info = this.closeInfo ?? { code: 1006, reason: '' };
    return { code: info.code, reason: info.reason };
  }

  sendJson(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  /**
   * Hangs up as the carrier does (`hangUpMessage`, e.g. Twilio's `stop`, then a normal close);
   * resolves once closed, terminating the socket after `timeoutMs`.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    if (!this.isOpen) return;
    const goodbye = this.hangUpMessage();
    if (goodbye !== undefined) this.sendJson(goodbye);
    this.close(1000);
    await this.waitForClose(timeoutMs).catch(() => this.terminate());
  }

  /** The message the carrier sends before it closes the stream, if any (Plivo and Vonage send none). */
  protected hangUpMessage(): unknown {
    return undefined;
  }

  sendRaw(data: string | Uint8Array): void {
    if (!this.isOpen) return;
    if (typeof data === 'string') this.ws.send(data);
    else this.ws.send(data, { binary: true });
  }

  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Starts the frame clock (the subclass calls it once its stream has started). */
  protected startClock(): void {
    if (this.clockStartAt !== undefined) return;
    this.clockStartAt = this.now();
    this.scheduleTick();
  }

  protected violation(kind: string, detail: string): string {
    this.violations.push({ at: this.now(), kind, detail: detail.slice(0, 200) });
    return kind;
  }

  /** Plays `bytes` of gateway audio (a violation when the player is full). */
  protected play(bytes: Uint8Array, at: number): void {
    const dropped = this.player.enqueueAudio(bytes, at);
    if (dropped > 0) this.violation('buffer-overflow', `${dropped} bytes dropped`);
  }

  protected flush(at: number): ClearEntry {
    const { droppedBytes, flushedMarks } = this.player.clear(at);
    const entry = { at, droppedMs: droppedBytes / this.bytesPerMs, flushedMarks };
    this.clears.push(entry);
    return entry;
  }

  /**
   * A carrier's flush: empties the player, acknowledges the flush with `sendCleared`, and the
   * markers it dropped with `acknowledge`, before or after that per `policy` (or not at all).
   */
  protected flushAndAcknowledge(at: number, policy: FlushedMarkerPolicy, sendCleared: () => void, acknowledge: (name: string) => void): void {
    this.flushedMarkers = [];
    this.flush(at);
    const dropped = this.flushedMarkers;
    this.flushedMarkers = undefined;
    if (policy === 'before') for (const name of dropped) acknowledge(name);
    sendCleared();
    if (policy === 'after') for (const name of dropped) acknowledge(name);
  }

  private scheduleTick(): void {
    if (this.closeInfo !== undefined || this.clockStartAt === undefined) return;
    const tickMs = this.base.tickMs ?? 10;
    this.ticks++;
    const due = this.clockStartAt + this.ticks * tickMs;
    const now = this.now();
    if (due < now) this.ticks = Math.floor((now - this.clockStartAt) / tickMs);
    this.tickDueAt = Math.max(due, now);
    this.tickTimer = setTimeout(() => this.tick(), Math.max(0, due - now));
  }

  private tick(): void {
    this.tickTimer = undefined;
    if (this.closeInfo !== undefined || this.clockStartAt === undefined) return;
    const now = this.now();
    const late = now - this.tickDueAt;
    if (late > this.clockStall.maxLateMs) Object.assign(this.clockStall, { maxLateMs: late, at: this.tickDueAt });
    if (late > 40) this.stalls.push({ at: this.tickDueAt, lateMs: late });
    this.player.advance(now); // echoes first, each behind the frames due before it played
    this.sendFramesDueBy(now);
    this.conditions.notify();
    this.scheduleTick();
  }

  /** Sends every frame due by `t` (frame k is due at clockStartAt + k × 20 ms) not sent yet. */
  private sendFramesDueBy(t: number): void {
    if (this.clockStartAt === undefined || this.closeInfo !== undefined) return;
    const due = Math.floor((t - this.clockStartAt) / FRAME_MS);
    while (this.framesSent < due && this.isOpen) this.nextFrame();
  }

  private nextFrame(): void {
    const speech = this.speech[0];
    const index = this.framesSent++;
    if (speech === undefined && this.base.sendSilence === false) return;
    this.pcm.fill(0);
    if (speech !== undefined) {
      const n = Math.min(this.frameSamples, speech.samples.length - speech.offset);
      this.pcm.set(speech.samples.subarray(speech.offset, speech.offset + n));
      speech.offset += n;
    }
    this.sendFrame(this.encode(this.pcm), index);
    if (speech !== undefined && speech.offset >= speech.samples.length) {
      this.speech.shift();
      speech.done();
    }
  }

  /** PCM16 samples in the stream's wire format (μ-law, or PCM16 little-endian). */
  protected encode(samples: Int16Array): Uint8Array {
    if (this.format.encoding === 'pcmu') return alawmulaw.mulaw.encode(samples);
    const out = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, i * 2);
    return out;
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    const at = this.now();
    this.player.advance(at);
    const bytes = rawBytes(data);
    const entry = isBinary ? this.onBinary(bytes, at) : this.onText(bytes.toString('utf8'), at);
    const bufferedMs = this.player.bufferedMs;
    this.maxBufferedMs = Math.max(this.maxBufferedMs, bufferedMs);
    this.received.push({ at, bufferedMs, ...entry });
    this.conditions.notify();
  }

  private handleClose(code: number, reason: string): void {
    const at = this.now();
    this.player.advance(at);
    this.closeInfo = { code, reason, at };
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    for (const speech of this.speech.splice(0)) speech.fail(new Error('fake caller: closed while speaking'));
    this.conditions.close(`closed (${code})`);
  }
}
