/**
 * Mic framing, pure so it runs in the capture AudioWorklet and in Node tests: float samples at the
 * capture context's rate in, PCM16 frames of `frameMs` at the wire rate out.
 *
 * Normally the capture AudioContext already runs at the wire rate and this only converts and
 * frames. When a browser refuses such a context for a microphone (Firefox will not connect a
 * MediaStream to a context at another rate), the context runs at the device rate and this
 * resamples: a 4th-order Butterworth low-pass (two biquads) below the output Nyquist frequency,
 * then linear interpolation. Positions are kept in exact integer arithmetic, so the output does not
 * depend on how the input is chunked.
 */

export interface MicFramerOptions {
  readonly inRate: number;
  readonly outRate: number;
  /** Frame length in ms of audio. Default 20. */
  readonly frameMs?: number;
}

/** One biquad section, transposed direct form II. */
class Biquad {
  private z1 = 0;
  private z2 = 0;
  private readonly b0: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly a1: number;
  private readonly a2: number;

  /** RBJ cookbook low-pass at `cutoff` Hz for `rate`, quality `q`. */
  constructor(rate: number, cutoff: number, q: number) {
    const w0 = (2 * Math.PI * cutoff) / rate;
    const cos = Math.cos(w0);
    const alpha = Math.sin(w0) / (2 * q);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
  }

  step(x: number): number {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }

  reset(): void {
    this.z1 = 0;
    this.z2 = 0;
  }
}

/** Butterworth 4th order = two sections with these Q values. */
const BUTTERWORTH_Q = [0.5412, 1.3066] as const;
/** Cut-off as a fraction of the output rate (Nyquist is 0.5): leaves a short transition band. */
const CUTOFF_FRACTION = 0.42;

export function floatToInt16(value: number): number {
  const clamped = value > 1 ? 1 : value < -1 ? -1 : value;
  return Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767);
}

export class MicFramer {
  readonly inRate: number;
  readonly outRate: number;
  readonly frameSamples: number;
  private readonly filters: readonly Biquad[];
  private scratch = new Float32Array(128);
  /** Index (relative to the current chunk; −1 = the previous chunk's last sample) of the next output. */
  private pos = 0;
  /** Fractional part of that position, in units of 1/outRate. */
  private frac = 0;
  private prev = 0;
  private frame: Int16Array;
  private filled = 0;

  constructor(options: MicFramerOptions) {
    const { inRate, outRate } = options;
    if (!Number.isInteger(inRate) || inRate <= 0 || !Number.isInteger(outRate) || outRate <= 0) {
      throw new RangeError(`rates must be positive integers (got ${inRate} → ${outRate})`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.frameSamples = Math.max(1, Math.round(((options.frameMs ?? 20) * outRate) / 1000));
    this.frame = new Int16Array(this.frameSamples);
    this.filters = inRate > outRate ? BUTTERWORTH_Q.map((q) => new Biquad(inRate, outRate * CUTOFF_FRACTION, q)) : [];
  }

  /** Feeds samples at `inRate`; returns the frames completed by them (each a fresh Int16Array). */
  process(input: Float32Array): Int16Array[] {
    const frames: Int16Array[] = [];
    if (this.inRate === this.outRate) {
      for (let i = 0; i < input.length; i++) this.emit(floatToInt16(input[i] ?? 0), frames);
      return frames;
    }
    const x = this.filter(input);
    const n = input.length;
    while (this.pos + 1 < n) {
      const a = this.pos < 0 ? this.prev : (x[this.pos] ?? 0);
      const b = x[this.pos + 1] ?? 0;
      this.emit(floatToInt16(a + ((b - a) * this.frac) / this.outRate), frames);
      this.frac += this.inRate;
      this.pos += Math.floor(this.frac / this.outRate);
      this.frac %= this.outRate;
    }
    if (n > 0) {
      this.prev = x[n - 1] ?? 0;
      this.pos -= n;
    }
    return frames;
  }

  /** Forgets filter state, position and any partial frame. */
  reset(): void {
    for (const f of this.filters) f.reset();
    this.pos = 0;
    this.frac = 0;
    this.prev = 0;
    this.filled = 0;
  }

  private filter(input: Float32Array): Float32Array {
    if (this.scratch.length < input.length) this.scratch = new Float32Array(input.length);
    const out = this.scratch;
    for (let i = 0; i < input.length; i++) {
      let v = input[i] ?? 0;
      for (const f of this.filters) v = f.step(v);
      out[i] = v;
    }
    return out;
  }

  private emit(sample: number, frames: Int16Array[]): void {
    this.frame[this.filled++] = sample;
    if (this.filled === this.frameSamples) {
      frames.push(this.frame);
      this.frame = new Int16Array(this.frameSamples);
      this.filled = 0;
    }
  }
}
