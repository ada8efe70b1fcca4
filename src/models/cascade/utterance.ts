/**
 * Collects one caller utterance (PCM16 mono) between the VAD's speech-start and speech-end. A short
 * pre-roll ring keeps the audio just before the onset (the VAD reports speech a little after it
 * starts), and the utterance buffer is bounded by `maxUtteranceMs`: speech beyond it is not kept
 * (`truncated`), so a caller who talks for ten minutes costs the same memory as one who talks
 * for thirty seconds.
 */
import { msToSamples } from '../../audio/format.js';
import type { Utterance } from './stt.js';

export interface UtteranceRecorderOptions {
  readonly sampleRate: number;
  readonly preRollMs: number;
  readonly maxUtteranceMs: number;
}

/** Initial utterance buffer (grown by doubling up to the bound). */
const INITIAL_MS = 2000;

export class UtteranceRecorder {
  readonly sampleRate: number;
  readonly maxSamples: number;
  private readonly ring: Int16Array;
  private ringWrite = 0;
  private ringFilled = 0;
  private buffer: Int16Array;
  private length = 0;
  private recordingFlag = false;
  private truncated = false;

  constructor(options: UtteranceRecorderOptions) {
    this.sampleRate = options.sampleRate;
    this.ring = new Int16Array(Math.max(1, msToSamples(options.sampleRate, options.preRollMs)));
    this.maxSamples = Math.max(1, msToSamples(options.sampleRate, options.maxUtteranceMs));
    this.buffer = new Int16Array(Math.min(this.maxSamples, msToSamples(options.sampleRate, INITIAL_MS)));
  }

  get recording(): boolean {
    return this.recordingFlag;
  }

  /** Samples held in the utterance buffer (≤ maxSamples). */
  get recordedSamples(): number {
    return this.length;
  }

  push(samples: Int16Array): void {
    if (this.recordingFlag) this.append(samples);
    else this.remember(samples);
  }

  /** Speech started: the utterance begins with the pre-roll. */
  start(): void {
    if (this.recordingFlag) return;
    this.recordingFlag = true;
    this.length = 0;
    this.truncated = false;
    const first = (this.ringWrite - this.ringFilled + this.ring.length) % this.ring.length;
    const head = this.ring.subarray(first, Math.min(this.ring.length, first + this.ringFilled));
    this.append(head);
    if (head.length < this.ringFilled) this.append(this.ring.subarray(0, this.ringFilled - head.length));
    this.ringFilled = 0;
    this.ringWrite = 0;
  }

  /** Speech ended: the utterance (a copy) with its spoken duration; the recorder is ready again. */
  finish(speechMs: number): Utterance {
    const samples = this.buffer.slice(0, this.length);
    const utterance: Utterance = {
      samples,
      sampleRate: this.sampleRate,
      // The VAD's figure (onset to last voiced frame); the kept audio also holds pre-roll and hangover.
      durationMs: speechMs > 0 ? speechMs : (samples.length * 1000) / this.sampleRate,
      levelDbfs: levelDbfs(samples),
      truncated: this.truncated,
    };
    this.recordingFlag = false;
    this.length = 0;
    this.truncated = false;
    return utterance;
  }

  private append(samples: Int16Array): void {
    const room = this.maxSamples - this.length;
    const take = Math.min(room, samples.length);
    if (take < samples.length) this.truncated = true;
    if (take <= 0) return;
    if (this.length + take > this.buffer.length) {
      const grown = new Int16Array(Math.min(this.maxSamples, Math.max(this.length + take, this.buffer.length * 2)));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(samples.subarray(0, take), this.length);
    this.length += take;
  }

  private remember(samples: Int16Array): void {
    const ring = this.ring;
    const tail = samples.length > ring.length ? samples.subarray(samples.length - ring.length) : samples;
    for (let i = 0; i < tail.length; i++) {
      ring[this.ringWrite] = tail[i] ?? 0;
      this.ringWrite = (this.ringWrite + 1) % ring.length;
    }
    this.ringFilled = Math.min(ring.length, this.ringFilled + tail.length);
  }
}

/** RMS level in dBFS (0 = full scale square wave; −Infinity for silence). */
export function levelDbfs(samples: Int16Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = (samples[i] ?? 0) / 32768;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / samples.length);
  return rms === 0 ? -Infinity : 20 * Math.log10(rms);
}

/**
 * Joins an utterance interrupted before its answer was heard with the next one (the caller paused,
 * then went on), bounded by `maxSamples` like any utterance.
 */
export function joinUtterances(first: Utterance, second: Utterance, maxSamples: number): Utterance {
  const total = Math.min(maxSamples, first.samples.length + second.samples.length);
  const samples = new Int16Array(total);
  samples.set(first.samples.subarray(0, total));
  const room = total - Math.min(total, first.samples.length);
  if (room > 0) samples.set(second.samples.subarray(0, room), first.samples.length);
  return {
    samples,
    sampleRate: second.sampleRate,
    durationMs: first.durationMs + second.durationMs,
    levelDbfs: levelDbfs(samples),
    truncated: first.truncated || second.truncated || total < first.samples.length + second.samples.length,
  };
}
