/**
 * Offline, in-process text-to-speech for the cascade backend: eSpeak NG compiled to WebAssembly
 * (npm `@echogarden/espeak-ng-emscripten`, GPL-3.0). No network and no downloaded binary: the
 * wasm and its 24 MB voice data ship inside the package.
 *
 * Why this engine (docs/bench-cascade.md has the figures): one engine instance is reused across
 * sentences and hands audio out through a callback, so a sentence costs a few ms once warm. The
 * `espeak-ng` package runs the CLI in a fresh wasm instance per sentence (≈ 12× slower to first audio), and
 * `mespeak` (asm.js eSpeak 1.x) corrupts its heap and kills the process after ≈ 80 sentences.
 *
 * The engine is global and synchronous: a synthesis holds the event loop for its duration (≈ 5–20
 * ms per sentence once warm, more for the first ones while V8 tiers the wasm up — call `warmUp()`
 * at start-up). Calls are serialised through one FIFO lock shared by every `OfflineTts`, handed on
 * with `setImmediate` so I/O runs between two sentences; the wait list is bounded.
 *
 * eSpeak produces 22 050 Hz, which the project's resampler does not take, so the sentence is
 * converted here to 24 000 (or 16 000) Hz with a Kaiser-windowed sinc interpolator.
 */
import { vwError } from '../../errors.js';
import type { SynthesisOptions, TextToSpeech } from './tts.js';

/** The npm package that carries the engine (kept in a variable so a missing package is a coded error). */
export const ESPEAK_PACKAGE = '@echogarden/espeak-ng-emscripten';

/** Options of {@link OfflineTts}. */
export interface OfflineTtsOptions {
  /** eSpeak NG voice, optionally with a variant (`en-us`, `en-gb-x-rp`, `en-us+f3`). Default `en-us`. */
  readonly voice?: string;
  /** Speaking rate in words per minute, 80–450. Default 175 (eSpeak's own). */
  readonly wordsPerMinute?: number;
  /** Base pitch, 0–99. Default 50. */
  readonly pitch?: number;
  /** Rate of the PCM16 chunks. Default 24000. */
  readonly outputRate?: 16000 | 24000;
  /** Longest chunk yielded, 10–100 ms. Default 100. */
  readonly chunkMs?: number;
  /** Requests allowed to wait for the engine (process-wide queue) before `VW_ERR_TTS_BUSY`. Default 64. */
  readonly maxQueued?: number;
  /** Longest text accepted, in characters (one sentence is expected). Default 1000. */
  readonly maxChars?: number;
  /** Audio beyond this is cut (bounds the sentence buffer). Default 60 s. */
  readonly maxSentenceMs?: number;
}

/** The part of the engine's `eSpeakNGWorker` that voicewire uses. */
interface EspeakWorker {
  set_voice(name: string): number;
  set_rate(wordsPerMinute: number): void;
  set_pitch(pitch: number): void;
  get_samplerate(): number;
  /** Calls back once per engine buffer; returning true stops the synthesis. */
  synthesize(text: string, callback: (samples: Int16Array | null, events: unknown) => boolean): unknown;
}

interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
}

interface Engine {
  readonly worker: EspeakWorker;
  readonly sampleRate: number;
  /** Settings last applied, so a sentence in the same voice does not reload it. */
  applied: string;
}

let enginePromise: Promise<Engine> | undefined;

/** Varied phonetics and punctuation, ≈ 15 s of speech: enough for V8 to optimise the engine's hot paths. */
const WARM_UP_TEXTS: readonly string[] = [
  'Ready.',
  'The quick brown fox jumps over the lazy dog, twice, before nine o\'clock.',
  'Could you tell me what time the pharmacy on Main Street closes tonight?',
  'Sphinx of black quartz, judge my vow; pack my box with five dozen liquor jugs!',
  'Your order number is four hundred and twenty-seven, arriving on Thursday the 12th.',
  'Thanks for calling. Is there anything else I can help you with today?',
];

/** Loads the engine once per process; a failed load is retried by the next request. */
function loadEngine(): Promise<Engine> {
  enginePromise ??= (async () => {
    try {
      const specifier: string = ESPEAK_PACKAGE;
      const mod = (await import(specifier)) as { default: () => Promise<EspeakModule> };
      const m = await mod.default();
      const worker = new m.eSpeakNGWorker();
      return { worker, sampleRate: worker.get_samplerate(), applied: '' };
    } catch (err) {
      enginePromise = undefined;
      throw vwError('VW_ERR_TTS_UNAVAILABLE', err instanceof Error ? err.message : String(err));
    }
  })();
  return enginePromise;
}

interface Waiter {
  readonly grant: () => void;
}

/**
 * FIFO lock around the global engine. `acquire` resolves with a release function; waiting requests
 * are bounded, and one whose signal aborts leaves the queue at once.
 */
class EngineLock {
  private held = false;
  private readonly waiters: Waiter[] = [];

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal: AbortSignal | undefined, maxQueued: number): Promise<() => void> {
    if (!this.held && this.waiters.length === 0) {
      this.held = true;
      return Promise.resolve(() => this.release());
    }
    if (this.waiters.length >= maxQueued) return Promise.reject(vwError('VW_ERR_TTS_BUSY', this.waiters.length));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(reasonOf(signal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(() => this.release());
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    if (this.waiters.length === 0) {
      this.held = false;
      return;
    }
    // Hand on in a later macrotask so I/O (other calls' audio frames) runs between two syntheses.
    // The lock stays held meanwhile, so a newcomer queues behind the waiters (FIFO).
    setImmediate(() => {
      const next = this.waiters.shift();
      if (next === undefined) this.held = false;
      else next.grant();
    });
  }
}

const lock = new EngineLock();

/** Requests waiting for the engine right now, process-wide (for metrics and tests). */
export function offlineTtsWaiting(): number {
  return lock.waiting;
}

/**
 * The signal's own reason (AbortController always sets one; a DOMException unless the aborter
 * chose otherwise). Typed as Error for `reject`: the contract is to reject with it unchanged.
 */
function reasonOf(signal: AbortSignal | undefined): Error {
  return signal?.reason as Error;
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (err: Error) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`${name} must be within ${min}–${max}`);
  return value;
}

/** {@link TextToSpeech} on eSpeak NG (wasm), in process. */
export class OfflineTts implements TextToSpeech {
  readonly sampleRate: 16000 | 24000;
  readonly name: string;
  private readonly voice: string;
  private readonly settings: string;
  private readonly wordsPerMinute: number;
  private readonly pitch: number;
  private readonly chunkSamples: number;
  private readonly maxQueued: number;
  private readonly maxChars: number;
  private readonly maxSentenceMs: number;

  constructor(options: OfflineTtsOptions = {}) {
    this.voice = options.voice ?? 'en-us';
    this.wordsPerMinute = checkRange('wordsPerMinute', options.wordsPerMinute ?? 175, 80, 450);
    this.pitch = checkRange('pitch', options.pitch ?? 50, 0, 99);
    this.sampleRate = options.outputRate ?? 24000;
    this.chunkSamples = Math.floor((this.sampleRate * checkRange('chunkMs', options.chunkMs ?? 100, 10, 100)) / 1000);
    this.maxQueued = checkRange('maxQueued', options.maxQueued ?? 64, 0, 1e6);
    this.maxChars = checkRange('maxChars', options.maxChars ?? 1000, 1, 1e6);
    this.maxSentenceMs = checkRange('maxSentenceMs', options.maxSentenceMs ?? 60_000, 100, 600_000);
    this.name = `espeak-ng/${this.voice}`;
    this.settings = `${this.voice}|${this.wordsPerMinute}|${this.pitch}`;
  }

  /**
   * Loads the engine and speaks a few sentences into the void, so V8 has tiered the hot wasm up
   * before a caller waits on it: the first sentences of a fresh engine take 10–30× longer than
   * warm ones (docs/bench-cascade.md). Costs about a second; call it at start-up.
   */
  async warmUp(signal?: AbortSignal): Promise<void> {
    for (const text of WARM_UP_TEXTS) {
      for await (const _chunk of this.synthesize(text, signal ? { signal } : {})) {
        // Draining is the point: the audio itself is not needed.
      }
    }
  }

  /** See {@link TextToSpeech.synthesize}; chunks are views into one buffer per sentence. */
  async *synthesize(text: string, options: SynthesisOptions = {}): AsyncGenerator<Int16Array> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (text.length > this.maxChars) throw vwError('VW_ERR_TTS_TEXT_TOO_LONG', text.length, this.maxChars);
    const trimmed = text.trim();
    if (trimmed.length === 0) return;
    const engine = await raceAbort(loadEngine(), signal);
    const release = await lock.acquire(signal, this.maxQueued);
    let pcm: Int16Array;
    try {
      signal?.throwIfAborted();
      pcm = this.synthesizeLocked(engine, trimmed);
    } finally {
      release();
    }
    signal?.throwIfAborted();
    const out = resampleSentence(pcm, engine.sampleRate, this.sampleRate);
    for (let at = 0; at < out.length; at += this.chunkSamples) {
      yield out.subarray(at, Math.min(out.length, at + this.chunkSamples));
      signal?.throwIfAborted();
    }
  }

  /** Runs the engine on one sentence while holding the lock; returns the engine-rate PCM. */
  private synthesizeLocked(engine: Engine, text: string): Int16Array {
    if (engine.applied !== this.settings) {
      engine.applied = '';
      if (engine.worker.set_voice(this.voice) !== 0) throw vwError('VW_ERR_TTS_VOICE', this.voice);
      engine.worker.set_rate(this.wordsPerMinute);
      engine.worker.set_pitch(this.pitch);
      engine.applied = this.settings;
    }
    const cap = Math.round((engine.sampleRate * this.maxSentenceMs) / 1000);
    const parts: Int16Array[] = [];
    let total = 0;
    engine.worker.synthesize(text, (samples) => {
      if (samples === null || samples.length === 0) return false;
      // The callback's array may be a view of wasm memory that the next buffer overwrites.
      const take = Math.min(samples.length, cap - total);
      parts.push(samples.slice(0, take));
      total += take;
      return total >= cap;
    });
    const pcm = new Int16Array(total);
    let at = 0;
    for (const part of parts) {
      pcm.set(part, at);
      at += part.length;
    }
    return pcm;
  }
}

// ---------------------------------------------------------------------------------------------
// 22 050 Hz → 24 000 / 16 000 Hz: Kaiser-windowed sinc, polyphase over the rational ratio.

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

/** At most one table per rate pair: the pairs are 22 050 → {16 000, 24 000}. */
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
