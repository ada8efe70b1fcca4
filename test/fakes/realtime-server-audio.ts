/**
 * Audio helpers of the fake Realtime server. Deliberately independent of src/audio: a fake that
 * shared the gateway's codec would agree with the gateway's bugs.
 */

/** The two audio formats the fake speaks (the session's `audio/pcmu` or `audio/pcm` 24 kHz). */
export type FakeWireFormat = 'pcmu' | 'pcm24k';

export function sampleRateOf(format: FakeWireFormat): number {
  return format === 'pcmu' ? 8000 : 24000;
}

export function bytesPerMsOf(format: FakeWireFormat): number {
  return format === 'pcmu' ? 8 : 48;
}

/** G.711 μ-law expansion (classic Sun g711.c formulation). */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** G.711 μ-law compression (classic Sun g711.c formulation). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let pcm = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = pcm < 0 ? 0x80 : 0;
  if (pcm < 0) pcm = -pcm;
  if (pcm > CLIP) pcm = CLIP;
  pcm += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes wire bytes to linear samples (PCM16 is little-endian). */
export function decodeSamples(format: FakeWireFormat, bytes: Uint8Array): Int16Array {
  if (format === 'pcmu') {
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

export function encodeSamples(format: FakeWireFormat, samples: Int16Array): Uint8Array {
  if (format === 'pcmu') {
    const out = new Uint8Array(samples.length);
    for (let i = 0; i < samples.length; i++) out[i] = linearToUlaw(samples[i]!);
    return out;
  }
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return out;
}

/**
 * A sine tone in `format`, from `startMs` for `ms` (phase continuous across calls, so deltas of
 * one response join without clicks and tests can regenerate exactly what the fake sent).
 */
export function toneBytes(format: FakeWireFormat, startMs: number, ms: number, hz = 440, amplitude = 8000): Uint8Array {
  const rate = sampleRateOf(format);
  const first = Math.round((startMs * rate) / 1000);
  const count = Math.round((ms * rate) / 1000);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (first + i)) / rate));
  return encodeSamples(format, samples);
}

/** Digital silence in `format`. */
export function silenceBytes(format: FakeWireFormat, ms: number): Uint8Array {
  const bytes = new Uint8Array(Math.round(ms * bytesPerMsOf(format)));
  if (format === 'pcmu') bytes.fill(0xff);
  return bytes;
}

/**
 * Energy detector on 10 ms windows, on the audio clock (ms of audio appended, not wall time): the
 * fake's VAD decisions depend only on the audio, so tests may append faster than real time.
 */
export class EnergyWindows {
  private readonly windowSamples: number;
  private sumSquares = 0;
  private count = 0;

  constructor(
    format: FakeWireFormat,
    private readonly threshold: number,
  ) {
    this.windowSamples = sampleRateOf(format) / 100;
  }

  /** Feeds samples; calls `onWindow(voiced)` for each completed 10 ms window. */
  feed(samples: Int16Array, onWindow: (voiced: boolean) => void): void {
    for (const s of samples) {
      this.sumSquares += s * s;
      this.count++;
      if (this.count === this.windowSamples) {
        const rms = Math.sqrt(this.sumSquares / this.count);
        this.sumSquares = 0;
        this.count = 0;
        onWindow(rms >= this.threshold);
      }
    }
  }
}
