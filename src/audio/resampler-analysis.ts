/**
 * Measurement helpers for resampler tests and benchmarks: least-squares tone fitting (gain,
 * phase, residual), so quality figures come from the signal itself rather than from the design.
 * Not used on the audio path.
 */

/** A tone found in a signal by least squares. */
export interface ToneFit {
  readonly frequency: number;
  readonly amplitude: number;
  /** Phase (radians) of amplitude·sin(2π f n / rate + phase), n counted from `start`. */
  readonly phase: number;
}

export interface MultiToneFit {
  readonly tones: readonly ToneFit[];
  /** RMS of what the tones (and a DC term) do not explain: noise, images, aliases, distortion. */
  readonly residualRms: number;
  /** RMS of the fitted tones. */
  readonly signalRms: number;
}

/** `Σ amplitude·sin(2π f n / rate + phase)` for n in [0, length). */
export function synthesize(length: number, rate: number, tones: readonly ToneFit[]): Float64Array {
  const out = new Float64Array(length);
  for (const tone of tones) {
    const w = (2 * Math.PI * tone.frequency) / rate;
    for (let n = 0; n < length; n++) out[n]! += tone.amplitude * Math.sin(w * n + tone.phase);
  }
  return out;
}

/** `synthesize` rounded and saturated to PCM16. */
export function synthesizePcm16(length: number, rate: number, tones: readonly ToneFit[]): Int16Array {
  const x = synthesize(length, rate, tones);
  const out = new Int16Array(length);
  for (let n = 0; n < length; n++) out[n] = Math.max(-32768, Math.min(32767, Math.round(x[n]!)));
  return out;
}

/** Solves the square system `a·x = b` in place (Gaussian elimination with partial pivoting). */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = a[r]![col]! / a[col]![col]!;
      for (let c = col; c < n; c++) a[r]![c]! -= f * a[col]![c]!;
      b[r]! -= f * b[col]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let c = r + 1; c < n; c++) s -= a[r]![c]! * x[c]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

/**
 * Fits tones of known `frequencies` (plus DC) to `signal[start, end)` by least squares. With a
 * window of many periods the fit is exact to the noise floor, unlike an FFT bin, whose leakage
 * would hide a −70 dB alias next to a full-scale tone.
 */
export function fitTones(
  signal: ArrayLike<number>,
  start: number,
  end: number,
  rate: number,
  frequencies: readonly number[],
): MultiToneFit {
  const k = frequencies.length * 2 + 1;
  const ata = Array.from({ length: k }, () => new Float64Array(k));
  const atb = new Float64Array(k);
  const row = new Float64Array(k);
  const ws = frequencies.map((f) => (2 * Math.PI * f) / rate);
  const basis = (n: number): void => {
    for (let i = 0; i < ws.length; i++) {
      row[2 * i] = Math.sin(ws[i]! * n);
      row[2 * i + 1] = Math.cos(ws[i]! * n);
    }
    row[k - 1] = 1;
  };
  for (let idx = start; idx < end; idx++) {
    basis(idx - start);
    const y = signal[idx]!;
    for (let r = 0; r < k; r++) {
      atb[r]! += row[r]! * y;
      const ar = ata[r]!;
      for (let c = 0; c < k; c++) ar[c]! += row[r]! * row[c]!;
    }
  }
  const coef = solve(ata, atb);
  let residual = 0;
  let signalPower = 0;
  for (let idx = start; idx < end; idx++) {
    basis(idx - start);
    let model = 0;
    for (let r = 0; r < k; r++) model += row[r]! * coef[r]!;
    const tonesOnly = model - coef[k - 1]!;
    residual += (signal[idx]! - model) ** 2;
    signalPower += tonesOnly * tonesOnly;
  }
  const count = Math.max(1, end - start);
  const tones = frequencies.map((frequency, i) => {
    const s = coef[2 * i]!;
    const c = coef[2 * i + 1]!;
    // s·sin + c·cos = A·sin(θ + φ) with A = hypot(s, c), φ = atan2(c, s).
    return { frequency, amplitude: Math.hypot(s, c), phase: Math.atan2(c, s) };
  });
  return { tones, residualRms: Math.sqrt(residual / count), signalRms: Math.sqrt(signalPower / count) };
}

/** RMS of `signal[start, end)`. */
export function rms(signal: ArrayLike<number>, start = 0, end: number = signal.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += signal[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, end - start));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/**
 * Delay in seconds of a tone that entered with phase `inputPhase` (at input time 0) and was fitted
 * with `outputPhase` at output time `outputStart / outputRate`, unwrapped to the period nearest
 * `expectedSeconds`.
 */
export function toneDelaySeconds(
  frequency: number,
  inputPhase: number,
  outputPhase: number,
  outputStartSeconds: number,
  expectedSeconds: number,
): number {
  // Output ≈ sin(2πf(t − d) + φin) with t = outputStart + n/rate, so
  // φout = 2πf·outputStart − 2πf·d + φin (mod 2π).
  const raw = (2 * Math.PI * frequency * outputStartSeconds + inputPhase - outputPhase) / (2 * Math.PI * frequency);
  const period = 1 / frequency;
  return raw + Math.round((expectedSeconds - raw) / period) * period;
}
