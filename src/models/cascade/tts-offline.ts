/**
 * Offline text-to-speech for the cascade backend: eSpeak NG compiled to WebAssembly (npm
 * `@echogarden/espeak-ng-emscripten`, GPL-3.0). No network and no downloaded binary: the wasm and
 * its 24 MB voice data ship inside the package.
 *
 * Why this engine (docs/bench-cascade.md has the figures): one engine instance is reused across
 * sentences and hands audio out through a callback, so a sentence costs a few ms once warm. The
 * `espeak-ng` package runs the CLI in a fresh wasm instance per sentence (≈ 12× slower to first audio), and
 * `mespeak` (asm.js eSpeak 1.x) corrupts its heap and kills the process after ≈ 80 sentences.
 *
 * The engine is synchronous (≈ 7 ms per warm sentence, 10–30× more for the first ones while V8
 * tiers the wasm up — call `warmUp()` at start-up), so it runs in one worker thread per process
 * (tts-worker.ts), shared by every `OfflineTts`: a sentence no longer stalls other calls' audio,
 * marks and heartbeats. Calls are serialised through one FIFO lock, one request in flight; the
 * wait list is bounded. The worker is unreferenced while idle (it never keeps the process alive),
 * and a worker that crashes or misses its deadline is replaced by the next request.
 */
import { vwError } from '../../errors.js';
import type { SynthesisOptions, TextToSpeech } from './tts.js';
import { requestSentence, synthesizeSentence, WARM_UP_TEXTS } from './tts-worker.js';

export { ESPEAK_PACKAGE, offlineTtsInFlight, stopOfflineTtsWorker } from './tts-worker.js';
export { resampleSentence } from './tts-resample.js';

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
  /**
   * Longest wait for the worker's answer to one sentence, engine load included; past it the worker
   * is terminated (the next request starts a fresh one) and the call fails with `VW_ERR_DEADLINE`.
   * 1 ms–10 min, default 30 s.
   */
  readonly deadlineMs?: number;
  /**
   * Run the engine on the calling thread instead of the worker (each sentence then blocks the event
   * loop for its whole duration). For measurements and for hosts without worker threads; default false.
   */
  readonly inProcess?: boolean;
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

/** {@link TextToSpeech} on eSpeak NG (wasm), in a worker thread shared by the process. */
export class OfflineTts implements TextToSpeech {
  readonly sampleRate: 16000 | 24000;
  readonly name: string;
  private readonly voice: string;
  private readonly wordsPerMinute: number;
  private readonly pitch: number;
  private readonly chunkSamples: number;
  private readonly maxQueued: number;
  private readonly maxChars: number;
  private readonly maxSentenceMs: number;
  private readonly deadlineMs: number;
  private readonly inProcess: boolean;

  constructor(options: OfflineTtsOptions = {}) {
    this.voice = options.voice ?? 'en-us';
    this.wordsPerMinute = checkRange('wordsPerMinute', options.wordsPerMinute ?? 175, 80, 450);
    this.pitch = checkRange('pitch', options.pitch ?? 50, 0, 99);
    this.sampleRate = options.outputRate ?? 24000;
    this.chunkSamples = Math.floor((this.sampleRate * checkRange('chunkMs', options.chunkMs ?? 100, 10, 100)) / 1000);
    this.maxQueued = checkRange('maxQueued', options.maxQueued ?? 64, 0, 1e6);
    this.maxChars = checkRange('maxChars', options.maxChars ?? 1000, 1, 1e6);
    this.maxSentenceMs = checkRange('maxSentenceMs', options.maxSentenceMs ?? 60_000, 100, 600_000);
    this.deadlineMs = checkRange('deadlineMs', options.deadlineMs ?? 30_000, 1, 600_000);
    this.inProcess = options.inProcess ?? false;
    this.name = `espeak-ng/${this.voice}`;
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
    const release = await lock.acquire(signal, this.maxQueued);
    let sentence: Promise<Int16Array>;
    try {
      signal?.throwIfAborted();
      sentence = this.request(trimmed);
    } catch (err) {
      release();
      throw err;
    }
    // The engine stays taken until it has answered, even when this caller stops waiting (abort).
    void sentence.then(release, release);
    const pcm = await raceAbort(sentence, signal);
    signal?.throwIfAborted();
    for (let at = 0; at < pcm.length; at += this.chunkSamples) {
      yield pcm.subarray(at, Math.min(pcm.length, at + this.chunkSamples));
      signal?.throwIfAborted();
    }
  }

  private request(text: string): Promise<Int16Array> {
    const sentence = {
      text,
      voice: this.voice,
      wordsPerMinute: this.wordsPerMinute,
      pitch: this.pitch,
      outputRate: this.sampleRate,
      maxSentenceMs: this.maxSentenceMs,
    };
    return this.inProcess ? synthesizeSentence(sentence) : requestSentence(sentence, this.deadlineMs);
  }
}
