/**
 * Audio bits shared by the fake model servers (Gemini Live, Deepgram Voice Agent, ElevenLabs
 * Agents): any of the formats they speak, a phase-continuous tone for answers, and an energy VAD
 * on the audio clock with a detection delay. Independent of src/audio on purpose (a fake sharing
 * the gateway's codec would agree with its bugs); μ-law comes from the Realtime fake's own
 * classic g711 formulation.
 */
import { linearToUlaw, ulawToLinear } from './realtime-server-audio.js';

export interface FakeAudioFormat {
  readonly encoding: 'pcmu' | 'pcm16';
  readonly sampleRate: number;
}

export const ULAW_8K: FakeAudioFormat = { encoding: 'pcmu', sampleRate: 8000 };
export const PCM_16K: FakeAudioFormat = { encoding: 'pcm16', sampleRate: 16000 };
export const PCM_24K: FakeAudioFormat = { encoding: 'pcm16', sampleRate: 24000 };

export function bytesPerMsOf(format: FakeAudioFormat): number {
  return (format.sampleRate / 1000) * (format.encoding === 'pcmu' ? 1 : 2);
}

export function decode(format: FakeAudioFormat, bytes: Uint8Array): Int16Array {
  if (format.encoding === 'pcmu') {
    const out = new Int16Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = ulawToLinear(bytes[i]!);
    return out;
  }
  const count = bytes.length >> 1;
  const out = new Int16Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** A sine tone from `startMs` for `ms`, phase continuous across calls. */
export function tone(format: FakeAudioFormat, startMs: number, ms: number, hz = 440, amplitude = 8000): Uint8Array {
  const rate = format.sampleRate;
  const first = Math.round((startMs * rate) / 1000);
  const count = Math.round((ms * rate) / 1000);
  const out = new Uint8Array(count * (format.encoding === 'pcmu' ? 1 : 2));
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const sample = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (first + i)) / rate));
    if (format.encoding === 'pcmu') out[i] = linearToUlaw(sample);
    else view.setInt16(i * 2, sample, true);
  }
  return out;
}

export interface VadOptions {
  /** Voiced audio needed before speech counts as started (ms, audio clock). */
  readonly detectionDelayMs: number;
  /** Silence that ends speech (ms, audio clock). */
  readonly silenceMs: number;
  /** RMS of a 10 ms window that counts as voiced (PCM16 units). */
  readonly threshold: number;
}

/**
 * Energy VAD on 10 ms windows, on the audio clock (ms appended, not wall time), so tests may
 * append faster than real time and still get deterministic decisions.
 */
export class FakeVad {
  private sumSquares = 0;
  private count = 0;
  private phase: 'silence' | 'speech' = 'silence';
  private voicedRunMs = 0;
  private silenceRunMs = 0;
  /** ms of input seen. */
  inputMs = 0;

  constructor(
    private readonly format: FakeAudioFormat,
    private readonly options: VadOptions,
    private readonly onStart: (atMs: number) => void,
    private readonly onStop: (atMs: number) => void,
  ) {}

  get speaking(): boolean {
    return this.phase === 'speech';
  }

  feed(bytes: Uint8Array): void {
    const windowSamples = this.format.sampleRate / 100;
    for (const s of decode(this.format, bytes)) {
      this.sumSquares += s * s;
      this.count++;
      if (this.count < windowSamples) continue;
      const voiced = Math.sqrt(this.sumSquares / this.count) >= this.options.threshold;
      this.sumSquares = 0;
      this.count = 0;
      this.window(voiced);
    }
  }

  private window(voiced: boolean): void {
    this.inputMs += 10;
    if (this.phase === 'silence') {
      this.voicedRunMs = voiced ? this.voicedRunMs + 10 : 0;
      if (this.voicedRunMs < this.options.detectionDelayMs) return;
      this.phase = 'speech';
      this.voicedRunMs = 0;
      this.silenceRunMs = 0;
      this.onStart(this.inputMs);
      return;
    }
    this.silenceRunMs = voiced ? 0 : this.silenceRunMs + 10;
    if (this.silenceRunMs < this.options.silenceMs) return;
    this.phase = 'silence';
    this.onStop(this.inputMs);
  }
}

/**
 * Paces an answer faster than real time: `chunk(startMs, ms, index)` every `chunkMs / speedFactor`
 * of wall time until `totalMs` of audio, then `done()`. `stop()` ends it without `done`.
 */
export class AnswerPacer {
  private sentMs = 0;
  private chunks = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();
  private stopped = false;

  constructor(
    private readonly totalMs: number,
    private readonly chunkMs: number,
    private readonly speedFactor: number,
    private readonly chunk: (startMs: number, ms: number, index: number) => void,
    private readonly done: () => void,
  ) {
    this.schedule();
  }

  get audioSentMs(): number {
    return this.sentMs;
  }

  get running(): boolean {
    return !this.stopped;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const dueAt = this.startedAt + (this.chunks * this.chunkMs) / this.speedFactor;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueAt - performance.now()));
  }

  private tick(): void {
    if (this.stopped) return;
    const ms = Math.min(this.chunkMs, this.totalMs - this.sentMs);
    const start = this.sentMs;
    this.sentMs += ms;
    this.chunks++;
    this.chunk(start, ms, this.chunks - 1);
    if (this.stopped) return;
    if (this.sentMs < this.totalMs) {
      this.schedule();
      return;
    }
    this.stopped = true;
    this.done();
  }
}

/** Words of `text` due after `sentMs` of `totalMs` (spread evenly over the answer). */
export function wordsDue(words: readonly string[], sentMs: number, totalMs: number): number {
  return Math.min(words.length, Math.ceil((words.length * sentMs) / totalMs));
}
