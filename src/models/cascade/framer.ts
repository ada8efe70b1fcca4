/**
 * TTS output → caller frames: PCM16 at the engine's rate is resampled to the caller's rate,
 * encoded (μ-law for Twilio, PCM16 LE for browsers) and cut into frames of `frameMs`. A sentence
 * ends with `flush()`, which drains the resampler's delay line and pads the last frame with
 * silence, so every frame the session receives is whole and a sentence's duration is exact.
 */
import { FRAME_MS, msToSamples, type AudioFormat, type SampleRate } from '../../audio/format.js';
import { encodeMulaw, MULAW_SILENCE } from '../../audio/mulaw.js';
import { StreamingResampler } from '../../audio/resampler.js';
import { vwError } from '../../errors.js';

const SUPPORTED_RATES: readonly number[] = [8000, 16000, 24000];

/** Longest slice handed to the resampler at once (its input is capped per call). */
const MAX_SLICE_MS = 250;

/** Throws VW_ERR_CONFIG when `rate` is not one the resampler supports. */
export function assertSupportedRate(rate: number, what: string): asserts rate is SampleRate {
  if (!SUPPORTED_RATES.includes(rate)) {
    throw vwError('VW_ERR_CONFIG', `${what} sample rate ${rate} Hz is not one of ${SUPPORTED_RATES.join(', ')}`);
  }
}

export class Framer {
  readonly frameMs: number;
  private readonly format: AudioFormat;
  private readonly resampler: StreamingResampler | undefined;
  private readonly sliceSamples: number;
  /** Samples of the frame being filled, at the caller's rate. Bounded: one frame. */
  private readonly pending: Int16Array;
  private filled = 0;

  constructor(fromRate: number, format: AudioFormat, frameMs: number = FRAME_MS) {
    assertSupportedRate(fromRate, 'TTS');
    this.format = format;
    this.frameMs = frameMs;
    this.resampler = fromRate === format.sampleRate ? undefined : new StreamingResampler(fromRate, format.sampleRate);
    this.sliceSamples = msToSamples(fromRate, MAX_SLICE_MS);
    this.pending = new Int16Array(msToSamples(format.sampleRate, frameMs));
  }

  /** Feeds PCM16 at the engine's rate; returns the frames completed (new arrays, caller-owned). */
  push(pcm: Int16Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let at = 0; at < pcm.length; at += this.sliceSamples) {
      const slice = pcm.subarray(at, Math.min(pcm.length, at + this.sliceSamples));
      this.collect(this.resampler ? this.resampler.process(slice) : slice, frames);
    }
    return frames;
  }

  /** End of a sentence: the resampler's tail and the last frame, padded with silence; then reset. */
  flush(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    if (this.resampler && this.resampler.delaySamples > 0) {
      const zeros = Math.ceil((this.resampler.delaySamples * this.resampler.fromRate) / this.resampler.toRate) + 1;
      this.collect(this.resampler.process(new Int16Array(zeros)), frames);
    }
    if (this.filled > 0) {
      this.pending.fill(0, this.filled);
      frames.push(this.encode(this.pending));
    }
    this.reset();
    return frames;
  }

  /** Forget everything (interruption). */
  reset(): void {
    this.filled = 0;
    this.resampler?.reset();
  }

  private collect(samples: Int16Array, frames: Uint8Array[]): void {
    let at = 0;
    while (at < samples.length) {
      const take = Math.min(this.pending.length - this.filled, samples.length - at);
      this.pending.set(samples.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.pending.length) {
        frames.push(this.encode(this.pending));
        this.filled = 0;
      }
    }
  }

  private encode(samples: Int16Array): Uint8Array {
    if (this.format.encoding === 'pcmu') {
      const out = new Uint8Array(samples.length).fill(MULAW_SILENCE);
      encodeMulaw(samples, out);
      return out;
    }
    const out = new Uint8Array(samples.length * 2);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] ?? 0;
      out[2 * i] = s & 0xff;
      out[2 * i + 1] = (s >> 8) & 0xff;
    }
    return out;
  }
}
