/**
 * Filter design for the streaming resampler: one linear-phase, Kaiser-windowed sinc low-pass per
 * rate pair, split into polyphase branches once and shared by every stream of that pair (a gateway
 * holds thousands of streams; each keeps only its history, the coefficients live here once).
 */
import type { SampleRate } from './format.js';

/**
 * Design targets of one rate pair. The filter runs at the intermediate rate `L × from = M × to`.
 * `taps − 1` is a multiple of 2M for both directions of the pair, so the delay is a whole number
 * of output samples.
 */
export interface PairDesign {
  /** Upper edge of the band kept flat (Hz). */
  readonly passbandHz: number;
  /** Lower edge of the band pushed ≥ 70 dB down (Hz). */
  readonly stopbandHz: number;
  /** Prototype length (odd, symmetric). */
  readonly taps: number;
  /** Kaiser window β. */
  readonly beta: number;
}

/**
 * Why these edges: with linear phase, delay = (taps − 1) / 2 samples at the intermediate rate, and
 * the 3 ms budget caps the taps; the transition width follows.
 * - Pairs with 8 kHz keep 0–3.4 kHz (telephone band) and stop from 4.6 kHz = 8 − 3.4 kHz: every
 *   image of a passband tone and every alias that lands in 0–3.4 kHz is ≥ 70 dB down. Content of a
 *   16/24 kHz input between 4.0 and 4.6 kHz is only partly removed and folds into 3.4–4.0 kHz,
 *   above the telephone band: a stop edge at 4.0 kHz would need ~4.2 ms of delay.
 * - 16 ↔ 24 kHz keeps 0–7 kHz and stops from 8 kHz (the 16 kHz Nyquist), 2.5 ms of delay.
 */
const DESIGNS: Readonly<Record<string, PairDesign>> = {
  // β chosen by scanning for the deepest stopband at that length: ≈ 81, 81 and 79 dB.
  '8000:16000': { passbandHz: 3400, stopbandHz: 4600, taps: 69, beta: 8.0 },
  '8000:24000': { passbandHz: 3400, stopbandHz: 4600, taps: 103, beta: 8.0 },
  '16000:24000': { passbandHz: 7000, stopbandHz: 8000, taps: 241, beta: 7.85 },
};

/** Coefficients of one direction, arranged for the inner loop. */
export interface PolyphaseTable {
  readonly fromRate: SampleRate;
  readonly toRate: SampleRate;
  /** Interpolation factor L (intermediate rate = L × fromRate). */
  readonly up: number;
  /** Decimation factor M (toRate = intermediate rate / M). */
  readonly down: number;
  /**
   * Taps per branch: K = ceil(taps / L) rounded up to a multiple of 4 (the inner loop runs four
   * accumulators; the extra taps are zeros). A stream keeps K − 1 input samples of history.
   */
  readonly branchTaps: number;
  /**
   * Branch p holds h[p + iL] for i = 0..K−1 at [p·K + (K−1−i)]: reversed, so the inner loop walks
   * input and coefficients forwards (oldest sample first).
   */
  readonly coefficients: Float32Array;
  /** Algorithmic delay in output samples ((taps − 1) / 2M, an integer by design). */
  readonly delaySamples: number;
  readonly design: PairDesign;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for β < 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Kaiser-windowed sinc low-pass at `sampleRate`, cut at `cutoffHz` (the −6 dB point), scaled to a
 * DC gain of `gain`. Symmetric, so its phase is linear.
 */
export function kaiserLowPass(taps: number, cutoffHz: number, sampleRate: number, beta: number, gain: number): Float64Array {
  const h = new Float64Array(taps);
  const centre = (taps - 1) / 2;
  const fc = cutoffHz / sampleRate; // cycles per sample
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let k = 0; k < taps; k++) {
    const t = k - centre;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = centre === 0 ? 0 : t / centre;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    h[k] = sinc * window;
    sum += h[k]!;
  }
  for (let k = 0; k < taps; k++) h[k] = (h[k]! * gain) / sum;
  return h;
}

/** Design of the pair {a, b}, or undefined for an unsupported pair. */
export function pairDesign(a: SampleRate, b: SampleRate): PairDesign | undefined {
  return DESIGNS[a < b ? `${a}:${b}` : `${b}:${a}`];
}

function buildTable(fromRate: SampleRate, toRate: SampleRate, design: PairDesign): PolyphaseTable {
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const intermediate = fromRate * up;
  const cutoff = (design.passbandHz + design.stopbandHz) / 2;
  // Gain L: zero-stuffing by L divides the spectrum's level by L.
  const h = kaiserLowPass(design.taps, cutoff, intermediate, design.beta, up);
  const branchTaps = Math.ceil(design.taps / up / 4) * 4;
  const coefficients = new Float32Array(up * branchTaps);
  for (let p = 0; p < up; p++) {
    for (let i = 0; i < branchTaps; i++) {
      const k = p + i * up;
      coefficients[p * branchTaps + (branchTaps - 1 - i)] = k < design.taps ? h[k]! : 0;
    }
  }
  return { fromRate, toRate, up, down, branchTaps, coefficients, delaySamples: (design.taps - 1) / (2 * down), design };
}

/** One table per direction, built on first use and kept for the life of the process (6 at most). */
const tables = new Map<string, PolyphaseTable>();

/** The shared polyphase table for `fromRate → toRate`, or undefined for an unsupported pair. */
export function polyphaseTable(fromRate: SampleRate, toRate: SampleRate): PolyphaseTable | undefined {
  const key = `${fromRate}>${toRate}`;
  let table = tables.get(key);
  if (table === undefined) {
    const design = pairDesign(fromRate, toRate);
    if (design === undefined || fromRate === toRate) return undefined;
    table = buildTable(fromRate, toRate, design);
    tables.set(key, table);
  }
  return table;
}
