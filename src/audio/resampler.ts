/**
 * Streaming polyphase resampler between 8, 16 and 24 kHz (PCM16 in, PCM16 out).
 *
 * Each output sample is computed from the input samples alone (history + this chunk) with the
 * same arithmetic in the same order, so the output does not depend on how the input is chunked,
 * bit for bit. Coefficients are shared per rate pair (resampler-design.ts); a stream owns only
 * its history (≤ 123 floats), a phase counter and its output buffer, so thousands of streams are
 * cheap. In steady state (same chunk size each call) `process()` allocates nothing.
 */
import { vwError } from '../errors.js';
import type { SampleRate } from './format.js';
import { polyphaseTable, type PolyphaseTable } from './resampler-design.js';

const RATES: readonly number[] = [8000, 16000, 24000];

/** Default cap on one `process()` call: 1 s of input (Twilio sends 20 ms, OpenAI deltas ≲ 200 ms). */
export const DEFAULT_MAX_INPUT_MS = 1000;

export interface StreamingResamplerOptions {
  /** Largest input accepted by one `process()` call, in ms of input audio. Default 1000. */
  readonly maxInputMs?: number;
}

/**
 * Scratch shared by every stream: history followed by the current chunk, as floats, so the inner
 * loop reads one contiguous array. Safe because `process()` is synchronous and never re-entered.
 * Bounded by the largest `maxInputMs` in use plus the longest history.
 */
let scratch = new Float32Array(0);

function scratchOf(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(Math.max(length, scratch.length * 2));
  return scratch;
}

/**
 * Streaming polyphase resampler between 8, 16 and 24 kHz. Output does not depend on how the input
 * is chunked. `process()` returns a view into an internal buffer reused by the next call: copy it
 * if you keep it.
 */
export class StreamingResampler {
  readonly fromRate: SampleRate;
  readonly toRate: SampleRate;
  /** Algorithmic delay in output samples (whole; 0 when the rates are equal). */
  readonly delaySamples: number;
  /** Largest input accepted by one `process()` call, in samples. */
  readonly maxInputSamples: number;

  readonly #table: PolyphaseTable | undefined;
  /** The last K − 1 input samples, oldest first (K = taps per branch). */
  readonly #history: Float32Array;
  /**
   * Position of the next output on the intermediate-rate grid, relative to the first sample of
   * the next chunk (0 ≤ phase < M). Output n is due once input ⌊n·M / L⌋ has arrived.
   */
  #phase = 0;
  #out: Int16Array = new Int16Array(0);
  /** The last view returned, handed out again when the next call produces as many samples. */
  #view: Int16Array = new Int16Array(0);

  constructor(fromRate: SampleRate, toRate: SampleRate, options: StreamingResamplerOptions = {}) {
    if (!RATES.includes(fromRate) || !RATES.includes(toRate)) {
      throw vwError('VW_ERR_CONFIG', `unsupported resampling ${String(fromRate)} → ${String(toRate)} Hz`);
    }
    const maxInputMs = options.maxInputMs ?? DEFAULT_MAX_INPUT_MS;
    if (!Number.isFinite(maxInputMs) || maxInputMs <= 0) {
      throw vwError('VW_ERR_CONFIG', `maxInputMs must be finite and > 0, got ${String(maxInputMs)}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.maxInputSamples = Math.ceil((maxInputMs * fromRate) / 1000);
    this.#table = polyphaseTable(fromRate, toRate);
    this.delaySamples = this.#table?.delaySamples ?? 0;
    this.#history = new Float32Array(this.#table === undefined ? 0 : this.#table.branchTaps - 1);
  }

  /** Number of output samples the next `process()` of `inputLength` samples will return. */
  outputLength(inputLength: number): number {
    const table = this.#table;
    if (table === undefined) return inputLength;
    const limit = inputLength * table.up;
    return limit > this.#phase ? Math.ceil((limit - this.#phase) / table.down) : 0;
  }

  /** Feed PCM16 samples; returns the output samples produced (view, reused). */
  process(input: Int16Array): Int16Array {
    const n = input.length;
    if (n > this.maxInputSamples) throw vwError('VW_ERR_RESAMPLE_TOO_LARGE', n, this.maxInputSamples);
    const count = this.outputLength(n);
    const out = this.#outputBuffer(count);
    const table = this.#table;
    if (table === undefined) out.set(input);
    else if (n > 0) this.#filter(table, input, out, count);
    return this.#viewOf(out, count);
  }

  /** Forget history (new utterance / after an interruption). */
  reset(): void {
    this.#history.fill(0);
    this.#phase = 0;
  }

  #filter(table: PolyphaseTable, input: Int16Array, out: Int16Array, count: number): void {
    const n = input.length;
    const { up, down, branchTaps, coefficients } = table;
    const history = this.#history;
    const h = history.length;
    const work = scratchOf(h + n);
    work.set(history, 0);
    for (let i = 0; i < n; i++) work[h + i] = input[i]!;

    let t = this.#phase;
    for (let o = 0; o < count; o++) {
      // Newest input needed is j (chunk-relative) = work[h + j]; the branch spans work[j .. j + h].
      const j = Math.floor(t / up);
      const base = (t - j * up) * branchTaps;
      // Four independent accumulators break the add-latency chain (~1.8× faster than one); the
      // order of additions is fixed, so the result still does not depend on chunking.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let m = 0;
      for (; m + 8 <= branchTaps; m += 8) {
        const w = j + m;
        const c = base + m;
        a0 += work[w]! * coefficients[c]! + work[w + 4]! * coefficients[c + 4]!;
        a1 += work[w + 1]! * coefficients[c + 1]! + work[w + 5]! * coefficients[c + 5]!;
        a2 += work[w + 2]! * coefficients[c + 2]! + work[w + 6]! * coefficients[c + 6]!;
        a3 += work[w + 3]! * coefficients[c + 3]! + work[w + 7]! * coefficients[c + 7]!;
      }
      if (m < branchTaps) {
        // branchTaps is a multiple of 4: at most one block of 4 remains.
        const w = j + m;
        const c = base + m;
        a0 += work[w]! * coefficients[c]!;
        a1 += work[w + 1]! * coefficients[c + 1]!;
        a2 += work[w + 2]! * coefficients[c + 2]!;
        a3 += work[w + 3]! * coefficients[c + 3]!;
      }
      // Round half up, then saturate: an Int16Array store would wrap instead of clipping.
      let y = Math.round(a0 + a1 + (a2 + a3));
      if (y > 32767) y = 32767;
      else if (y < -32768) y = -32768;
      out[o] = y;
      t += down;
    }
    this.#phase = t - n * up;
    for (let i = 0; i < h; i++) history[i] = work[n + i]!;
  }

  /** The output buffer, grown (×1.5, up to the cap) only when a larger chunk arrives. */
  #outputBuffer(count: number): Int16Array {
    if (this.#out.length >= count) return this.#out;
    const cap = this.outputLength(this.maxInputSamples) + 1;
    this.#out = new Int16Array(Math.min(cap, Math.max(count, Math.ceil(this.#out.length * 1.5))));
    return this.#out;
  }

  #viewOf(out: Int16Array, count: number): Int16Array {
    const view = this.#view;
    if (view.length === count && view.buffer === out.buffer) return view;
    this.#view = out.subarray(0, count);
    return this.#view;
  }
}
