/**
 * The worker thread of the offline TTS, both sides: the eSpeak NG engine (npm
 * `@echogarden/espeak-ng-emscripten`, wasm) with the thread's entry point, and the main-thread
 * host that starts the one worker of the process and exchanges sentences with it.
 *
 * eSpeak synthesises synchronously: ≈ 7 ms per warm sentence, 10–30× more for the first sentences
 * of a fresh engine. On the main thread that would stall every other call's audio pump, marks and
 * heartbeats, so `OfflineTts` runs this module in one `node:worker_threads` Worker per process
 * (started with `workerData` {@link TTS_WORKER_ROLE}) through {@link requestSentence};
 * `inProcess: true` calls {@link synthesizeSentence} directly instead. The worker also resamples, so the main thread only
 * slices the transferred buffer into chunks.
 *
 * Protocol (one request in flight at a time; `OfflineTts` serialises them): the main thread posts a
 * {@link SentenceRequest} with an `id`; the worker answers with a {@link SentenceReply} of the same
 * `id`, the PCM's buffer transferred rather than copied.
 */
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { isVoicewireError, vwError, type ErrorCode, type VoicewireError } from '../../errors.js';
import { resampleSentence } from './tts-resample.js';

/** The npm package that carries the engine (kept in a variable so a missing package is a coded error). */
export const ESPEAK_PACKAGE = '@echogarden/espeak-ng-emscripten';

/** `workerData` that makes this module serve requests (importing it elsewhere does nothing). */
export const TTS_WORKER_ROLE = 'voicewire-offline-tts';

/** Varied phonetics and punctuation, ≈ 15 s of speech: enough for V8 to optimise the engine's hot paths. */
export const WARM_UP_TEXTS: readonly string[] = [
  'Ready.',
  'The quick brown fox jumps over the lazy dog, twice, before nine o\'clock.',
  'Could you tell me what time the pharmacy on Main Street closes tonight?',
  'Sphinx of black quartz, judge my vow; pack my box with five dozen liquor jugs!',
  'Your order number is four hundred and twenty-seven, arriving on Thursday the 12th.',
  'Thanks for calling. Is there anything else I can help you with today?',
];

/** One sentence to speak, with the settings of the `OfflineTts` that asks. */
export interface SentenceRequest {
  readonly id: number;
  readonly text: string;
  readonly voice: string;
  readonly wordsPerMinute: number;
  readonly pitch: number;
  readonly outputRate: number;
  readonly maxSentenceMs: number;
}

/** The worker's answer: the whole sentence at `outputRate`, or a coded failure. */
export type SentenceReply =
  | { readonly id: number; readonly ok: true; readonly pcm: Int16Array }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCode; readonly message: string };

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

/** Loads the engine once per thread; a failed load is retried by the next request. */
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

/** Runs the engine on one sentence; returns the engine-rate PCM, cut at `maxSentenceMs`. */
function speak(engine: Engine, request: Omit<SentenceRequest, 'id'>): Int16Array {
  const settings = `${request.voice}|${request.wordsPerMinute}|${request.pitch}`;
  if (engine.applied !== settings) {
    engine.applied = '';
    if (engine.worker.set_voice(request.voice) !== 0) throw vwError('VW_ERR_TTS_VOICE', request.voice);
    engine.worker.set_rate(request.wordsPerMinute);
    engine.worker.set_pitch(request.pitch);
    engine.applied = settings;
  }
  const cap = Math.round((engine.sampleRate * request.maxSentenceMs) / 1000);
  const parts: Int16Array[] = [];
  let total = 0;
  engine.worker.synthesize(request.text, (samples) => {
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

/**
 * Speaks one sentence on this thread's engine (loaded on first use) and converts it to
 * `outputRate`. Synchronous once the engine is loaded: callers serialise. The result owns its
 * buffer exactly (offset 0, full length), so the buffer can be transferred.
 */
export async function synthesizeSentence(request: Omit<SentenceRequest, 'id'>): Promise<Int16Array> {
  const engine = await loadEngine();
  const pcm = resampleSentence(speak(engine, request), engine.sampleRate, request.outputRate);
  return pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm : pcm.slice();
}

function failureOf(id: number, err: unknown): SentenceReply {
  if (isVoicewireError(err)) return { id, ok: false, code: err.code, message: err.message };
  const detail = err instanceof Error ? err.message : String(err);
  return { id, ok: false, code: 'VW_ERR_TTS_ENGINE_FAILED', message: vwError('VW_ERR_TTS_ENGINE_FAILED', detail).message };
}

async function answer(port: MessagePort, request: SentenceRequest): Promise<void> {
  let reply: SentenceReply;
  try {
    reply = { id: request.id, ok: true, pcm: await synthesizeSentence(request) };
  } catch (err) {
    reply = failureOf(request.id, err);
  }
  port.postMessage(reply, reply.ok ? [reply.pcm.buffer as ArrayBuffer] : []);
}

function serve(port: MessagePort): void {
  port.on('message', function workerOnRequest(request: SentenceRequest) {
    // answer() reports every failure of the synthesis as a reply; only a failed postMessage could
    // reject, and that unhandled rejection ends the thread, which the main thread treats as a crash.
    void answer(port, request);
  });
}

if (!isMainThread && parentPort !== null && workerData === TTS_WORKER_ROLE) serve(parentPort);

// ---------------------------------------------------------------------------------------------
// Main-thread side: starting the worker and talking to it.

interface InFlight {
  readonly id: number;
  readonly resolve: (pcm: Int16Array) => void;
  readonly reject: (err: VoicewireError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * What to start the worker from: this very module (`tts-worker.js` in the build). From sources
 * under tsx, Node 20 does not apply `--import tsx` hooks to a worker's entry, so the worker is a
 * one-line script that loads `tts-worker.ts` through tsx's own `tsImport`.
 */
function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL(import.meta.url), eval: false };
  let api = 'tsx/esm/api';
  try {
    api = import.meta.resolve(api); // absolute, so the worker finds tsx whatever the working directory
  } catch (err) {
    // Left to the worker to resolve from the working directory; a failure there is a worker error.
    void err;
  }
  const file = JSON.stringify(import.meta.url);
  return { entry: `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${file}, ${file}));`, eval: true };
}

/**
 * Owns the process's one TTS worker: starts it on demand, holds at most one request in flight
 * (the lock guarantees it), keeps the worker referenced only while a request is in flight, and
 * drops a worker that crashed, exited or missed a deadline so the next request starts a fresh one.
 */
class WorkerHost {
  private worker: Worker | undefined;
  private inFlight: InFlight | undefined;
  private nextId = 1;

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  request(sentence: Omit<SentenceRequest, 'id'>, deadlineMs: number): Promise<Int16Array> {
    // Unreachable through OfflineTts (its lock allows one request in flight); kept as a guard.
    if (this.inFlight !== undefined) return Promise.reject(vwError('VW_ERR_TTS_ENGINE_FAILED', 'a request is already in flight'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<Int16Array>((resolve, reject) => {
      const timer = setTimeout(() => this.drop(worker, vwError('VW_ERR_DEADLINE', deadlineMs, 'the offline TTS worker')), deadlineMs);
      this.inFlight = { id, resolve, reject, timer };
      worker.ref();
      worker.postMessage({ ...sentence, id } satisfies SentenceRequest);
    });
  }

  /** Terminates the worker; a request in flight fails with `VW_ERR_TTS_ENGINE_FAILED`. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.drop(worker, vwError('VW_ERR_TTS_ENGINE_FAILED', 'worker stopped'));
    await worker.terminate(); // the same exit as drop's call: resolves once the thread is gone
  }

  private start(): Worker {
    const { entry, eval: isScript } = workerEntry();
    const worker = new Worker(entry, { eval: isScript, workerData: TTS_WORKER_ROLE });
    worker.unref();
    worker.on('message', (reply: SentenceReply) => this.onReply(worker, reply));
    worker.on('messageerror', (err: Error) => this.drop(worker, vwError('VW_ERR_TTS_ENGINE_FAILED', err.message)));
    worker.on('error', (err: Error) => this.drop(worker, vwError('VW_ERR_TTS_ENGINE_FAILED', err.message)));
    worker.on('exit', (code: number) => this.drop(worker, vwError('VW_ERR_TTS_ENGINE_FAILED', `worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private onReply(worker: Worker, reply: SentenceReply): void {
    const current = this.inFlight;
    // A stale worker's answer, or one for a request already failed: nobody waits for it.
    if (worker !== this.worker || current === undefined || current.id !== reply.id) return;
    this.settle();
    if (reply.ok) return current.resolve(reply.pcm);
    const err = vwError(reply.code);
    // The worker formatted the message with the arguments it had; keep its wording.
    err.message = reply.message;
    current.reject(err);
  }

  /** Forgets `worker` (if still current), ends it, and fails the request in flight with `err`. */
  private drop(worker: Worker, err: VoicewireError): void {
    if (worker !== this.worker) return;
    const current = this.settle();
    this.worker = undefined;
    // A worker past its deadline may be stuck in the engine; one that erred must not linger either.
    void worker.terminate();
    current?.reject(err);
  }

  private settle(): InFlight | undefined {
    const current = this.inFlight;
    this.inFlight = undefined;
    if (current !== undefined) clearTimeout(current.timer);
    this.worker?.unref();
    return current;
  }
}

const host = new WorkerHost();

/**
 * Has the process's worker speak one sentence (main thread; callers serialise, one in flight).
 * Rejects with the worker's coded error, `VW_ERR_DEADLINE` past `deadlineMs`, or
 * `VW_ERR_TTS_ENGINE_FAILED` when the worker is lost.
 */
export function requestSentence(sentence: Omit<SentenceRequest, 'id'>, deadlineMs: number): Promise<Int16Array> {
  return host.request(sentence, deadlineMs);
}

/** Whether a sentence is being synthesised by the worker right now (for metrics and tests). */
export function offlineTtsInFlight(): boolean {
  return host.busy;
}

/**
 * Terminates the TTS worker (for shutdown and tests); a request in flight fails with
 * `VW_ERR_TTS_ENGINE_FAILED`, and the next request starts a fresh worker.
 */
export function stopOfflineTtsWorker(): Promise<void> {
  return host.stop();
}
