/**
 * 22 050 Hz → 24 000 / 16 000 Hz for the offline TTS: eSpeak NG speaks at 22 050 Hz, which the
 * project's streaming resampler does not take. A whole sentence is converted at once with a
 * Kaiser-windowed sinc interpolator, polyphase over the rational ratio. Pure (no I/O), so the TTS
 * worker thread and the in-process engine share it.
 */

/** Zero crossings of the sinc on each side: ≈ 80 dB stopband with the Kaiser β below. */
const SINC_ZERO_CROSSINGS = 16;
const KAISER_BETA = 8;
/** Passband edge as a fraction of the lower Nyquist rate (22 050 → 24 000: flat to ≈ 10.1 kHz). */
const ROLLOFF = 0.92;

interface PolyphaseFilter {
  readonly up: number;
  readonly down: number;
  /** Taps per phase (even): input samples j0 − half + 1 … j0 + half feed one output. */
  readonly taps: number;
  /** `up` phases × `taps` coefficients, each phase normalised to unity gain at DC. */
  readonly coefficients: Float32Array;
}

/** One table per rate pair; bounded because only a few pairs are ever used (22 050 → {16 000, 24 000}). */
const MAX_FILTERS = 8;
const filters = new Map<string, PolyphaseFilter>();

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50 && term > 1e-12 * sum; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function designFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  // Cut-off in cycles per input sample; half the filter span in input samples.
  const cutoff = (ROLLOFF * Math.min(fromRate, toRate)) / (2 * fromRate);
  const half = Math.ceil(SINC_ZERO_CROSSINGS / (2 * cutoff));
  const taps = 2 * half;
  const coefficients = new Float32Array(up * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let phase = 0; phase < up; phase++) {
    let sum = 0;
    for (let i = 0; i < taps; i++) {
      const tau = phase / up + half - 1 - i; // output time minus input time, in input samples
      const x = 2 * cutoff * tau;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const r = tau / half;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const c = 2 * cutoff * sinc * window;
      coefficients[phase * taps + i] = c;
      sum += c;
    }
    for (let i = 0; i < taps; i++) coefficients[phase * taps + i]! /= sum;
  }
  return { up, down, taps, coefficients };
}

/**
 * Resamples one whole sentence (zero-phase: no delay, zeros assumed beyond both ends). Returns the
 * input itself when the rates match.
 */
export function resampleSentence(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || input.length === 0) return input;
  const key = `${fromRate}>${toRate}`;
  let filter = filters.get(key);
  if (filter === undefined) {
    filter = designFilter(fromRate, toRate);
    if (filters.size >= MAX_FILTERS) filters.clear();
    filters.set(key, filter);
  }
  const { up, down, taps, coefficients } = filter;
  const half = taps / 2;
  const length = Math.floor(((input.length - 1) * up) / down) + 1;
  const out = new Int16Array(length);
  for (let k = 0; k < length; k++) {
    const position = k * down;
    const j0 = Math.floor(position / up);
    const base = (position - j0 * up) * taps;
    const first = j0 - half + 1;
    let acc = 0;
    const from = Math.max(0, -first);
    const to = Math.min(taps, input.length - first);
    for (let i = from; i < to; i++) acc += coefficients[base + i]! * input[first + i]!;
    out[k] = acc >= 32767 ? 32767 : acc <= -32768 ? -32768 : Math.round(acc);
  }
  return out;
}
