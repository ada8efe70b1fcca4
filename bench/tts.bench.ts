/**
 * Offline TTS engines compared on the same ten sentences: init time, time to first audio per
 * sentence (p50/p95, cold and warm), × real time, memory. Each engine runs in its own child
 * process so its init and memory are measured alone; ratios are against the chosen engine
 * (`@echogarden/espeak-ng-emscripten` through OfflineTts) measured in the same run.
 *
 * Engines not installed are reported as such: only the chosen one is a project dependency; the
 * others are evaluated with `npm install --no-save mespeak espeak-ng`.
 *
 * mespeak (asm.js eSpeak 1.x) corrupts its heap and aborts the whole process after ≈ 80
 * sentences: the timing run stays below that (10 cold + 20 warm-up + 10 warm), and a separate
 * soak run per engine counts how many of 150 sentences each one survives.
 *
 * A second section measures what the chosen engine costs everyone else in the process: main-thread
 * event-loop lag (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while OfflineTts speaks
 * LAG_SENTENCES sentences back to back, in its worker thread vs `inProcess: true`, warm and cold,
 * each in its own child process, with time to first audio for both (the worker adds a thread hop).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { printTable, writeResults, type Row } from './report.js';
import { CORPUS_SENTENCES } from '../test/helpers/speech-corpus.js';

const ENGINES = ['offline-tts (echogarden espeak-ng)', 'espeak-ng (CLI wasm)', 'mespeak'] as const;
type EngineName = (typeof ENGINES)[number];
/** Sentences before the "warm" measurement: V8 tiers the engines' hot code up over the first ~10–20. */
const WARM_UP = 20;
/** Sentences in the soak run (its own child process), to find engines that fail after a while. */
const SOAK = 150;

/** One sentence's synthesis: ms to the first audio, ms in total, seconds of audio. */
interface Synth {
  firstMs: number;
  totalMs: number;
  audioSeconds: number;
}

type SynthFn = (text: string) => Promise<Synth>;

async function loadOfflineTts(): Promise<SynthFn> {
  const { OfflineTts } = await import('../src/models/cascade/tts-offline.js');
  const tts = new OfflineTts();
  // Init only (engine load), no warm-up synthesis: warm-up is measured like the other engines'.
  for await (const _ of tts.synthesize('A')) break;
  return async (text) => {
    const t0 = performance.now();
    let firstMs = -1;
    let samples = 0;
    for await (const chunk of tts.synthesize(text)) {
      if (firstMs < 0) firstMs = performance.now() - t0;
      samples += chunk.length;
    }
    return { firstMs, totalMs: performance.now() - t0, audioSeconds: samples / tts.sampleRate };
  };
}

interface EmscriptenCli {
  FS: { readFile(path: string): Uint8Array };
}

async function loadEspeakNgCli(): Promise<SynthFn> {
  const specifier = 'espeak-ng';
  const mod = (await import(specifier)) as { default: (o: object) => Promise<EmscriptenCli> };
  const wasmPath = fileURLToPath(import.meta.resolve('espeak-ng/dist/espeak-ng.wasm'));
  const compiled = await WebAssembly.compile(readFileSync(wasmPath));
  const instantiateWasm = (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void): object => {
    void WebAssembly.instantiate(compiled, imports).then((instance) => done(instance, compiled));
    return {};
  };
  const quiet = { print: (): void => undefined, printErr: (): void => undefined, instantiateWasm };
  await mod.default({ arguments: ['--version'], ...quiet });
  return async (text) => {
    // The package is the espeak-ng CLI: a fresh wasm instance per sentence, WAV out through its FS.
    const t0 = performance.now();
    const run = await mod.default({ arguments: ['-v', 'en-us', '-w', '/tmp/out.wav', text], ...quiet });
    const wav = run.FS.readFile('/tmp/out.wav');
    const totalMs = performance.now() - t0;
    return { firstMs: totalMs, totalMs, audioSeconds: (wav.length - 44) / 2 / 22050 };
  };
}

interface MeSpeak {
  loadConfig(json: unknown): void;
  loadVoice(json: unknown): void;
  speak(text: string, options: { rawdata: 'buffer' }): Buffer | null;
}

async function loadMespeak(): Promise<SynthFn> {
  const require = createRequire(import.meta.url);
  const meSpeak = require('mespeak') as MeSpeak;
  meSpeak.loadConfig(require('mespeak/src/mespeak_config.json'));
  meSpeak.loadVoice(require('mespeak/voices/en/en-us.json'));
  return async (text) => {
    const t0 = performance.now();
    const wav = meSpeak.speak(text, { rawdata: 'buffer' });
    const totalMs = performance.now() - t0;
    return { firstMs: totalMs, totalMs, audioSeconds: wav === null ? 0 : (wav.length - 44) / 2 / 22050 };
  };
}

const LOADERS: Record<EngineName, () => Promise<SynthFn>> = {
  'offline-tts (echogarden espeak-ng)': loadOfflineTts,
  'espeak-ng (CLI wasm)': loadEspeakNgCli,
  mespeak: loadMespeak,
};

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

interface EngineResult {
  engine: EngineName;
  installed: boolean;
  error?: string;
  initMs?: number;
  coldFirstMs?: number;
  coldP50Ms?: number;
  coldP95Ms?: number;
  firstP50Ms?: number;
  firstP95Ms?: number;
  realTimeFactor?: number;
  rssMb?: number;
  heapAndExternalMb?: number;
}

/** Runs in a child process: synthesises SOAK sentences, printing `ok N` after each. */
async function soak(engine: EngineName): Promise<void> {
  const synth = await LOADERS[engine]();
  for (let i = 1; i <= SOAK; i++) {
    const result = await synth(`Sentence number ${i}: ${CORPUS_SENTENCES[i % CORPUS_SENTENCES.length]!}`);
    if (result.audioSeconds <= 0) throw new Error(`no audio for sentence ${i}`);
    console.log(`ok ${i}`);
  }
}

function runChild(engine: EngineName, mode: 'measure' | 'soak'): { stdout: string; status: number | null; stderr: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), engine, mode], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { stdout: child.stdout, status: child.status, stderr: child.stderr };
}

/** Runs in a child process: measures one engine and prints its result as JSON. */
async function measure(engine: EngineName): Promise<EngineResult> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let synth: SynthFn;
  try {
    synth = await LOADERS[engine]();
  } catch (err) {
    return { engine, installed: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
  const initMs = performance.now() - t0;
  const cold: Synth[] = [];
  for (const sentence of CORPUS_SENTENCES) cold.push(await synth(sentence));
  for (let i = 0; i < WARM_UP; i++) await synth(CORPUS_SENTENCES[i % CORPUS_SENTENCES.length]!);
  const warm: Synth[] = [];
  for (const sentence of CORPUS_SENTENCES) warm.push(await synth(sentence));
  const mem = process.memoryUsage();
  const audio = warm.reduce((n, s) => n + s.audioSeconds, 0);
  const busy = warm.reduce((n, s) => n + s.totalMs, 0) / 1000;
  return {
    engine,
    installed: true,
    initMs,
    coldFirstMs: cold[0]!.firstMs,
    coldP50Ms: percentile(cold.map((c) => c.firstMs), 50),
    coldP95Ms: percentile(cold.map((c) => c.firstMs), 95),
    firstP50Ms: percentile(warm.map((s) => s.firstMs), 50),
    firstP95Ms: percentile(warm.map((s) => s.firstMs), 95),
    realTimeFactor: audio / busy,
    rssMb: (mem.rss - rss0) / 2 ** 20,
    heapAndExternalMb: (mem.heapUsed + mem.external) / 2 ** 20,
  };
}

/** Sentences spoken back to back while the main thread's event-loop delay is recorded. */
const LAG_SENTENCES = 20;
const LAG_MODES = ['worker', 'in-process'] as const;
type LagMode = (typeof LAG_MODES)[number];
type LagStart = 'warm' | 'cold';

interface LagResult {
  mode: LagMode;
  start: LagStart;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  firstP50Ms: number;
  firstP95Ms: number;
  wallMs: number;
}

/**
 * Runs in a child process: speaks LAG_SENTENCES sentences back to back through OfflineTts and
 * records the main thread's event-loop delay meanwhile. "warm" runs `warmUp()` first (as the
 * gateway does at start-up); "cold" starts from a fresh process, engine load included.
 */
async function measureLag(mode: LagMode, start: LagStart): Promise<LagResult> {
  const { OfflineTts } = await import('../src/models/cascade/tts-offline.js');
  const tts = new OfflineTts({ inProcess: mode === 'in-process' });
  if (start === 'warm') await tts.warmUp();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const firsts: number[] = [];
  histogram.enable();
  const t0 = performance.now();
  for (let i = 0; i < LAG_SENTENCES; i++) {
    const s0 = performance.now();
    let first = -1;
    for await (const _chunk of tts.synthesize(CORPUS_SENTENCES[i % CORPUS_SENTENCES.length]!)) {
      if (first < 0) first = performance.now() - s0;
    }
    firsts.push(first);
    // A pipeline hands the event loop back between sentences (it waits on sockets and played-ACKs);
    // without this the in-process run never yields and the monitor's timer sees nothing at all.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const wallMs = performance.now() - t0;
  histogram.disable();
  const ms = (ns: number): number => ns / 1e6;
  return {
    mode,
    start,
    lagP50Ms: ms(histogram.percentile(50)),
    lagP99Ms: ms(histogram.percentile(99)),
    lagMaxMs: ms(histogram.max),
    firstP50Ms: percentile(firsts, 50),
    firstP95Ms: percentile(firsts, 95),
    wallMs,
  };
}

function runLagChild(mode: LagMode, start: LagStart): LagResult | string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'lag', mode, start], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as LagResult) : `child exited ${child.status}: ${child.stderr.slice(0, 200)}`;
}

/** Prints the event-loop lag section: worker vs in process, each warm and cold, ratios within a start. */
function runLag(): LagResult[] {
  const results: LagResult[] = [];
  const rows: Row[] = [];
  for (const start of ['warm', 'cold'] as const) {
    const byMode = new Map<LagMode, LagResult>();
    for (const mode of LAG_MODES) {
      const result = runLagChild(mode, start);
      if (typeof result === 'string') {
        rows.push({ engine: mode, start, 'loop lag p50 ms': `not run: ${result}` });
        continue;
      }
      byMode.set(mode, result);
      results.push(result);
    }
    const reference = byMode.get('in-process');
    for (const r of byMode.values()) {
      rows.push({
        engine: r.mode,
        start,
        'loop lag p50 ms': r.lagP50Ms,
        'loop lag p99 ms': r.lagP99Ms,
        'loop lag max ms': r.lagMaxMs,
        'first audio p50 / p95 ms': `${r.firstP50Ms.toFixed(1)} / ${r.firstP95Ms.toFixed(1)}`,
        'first p50 / in-process': reference ? r.firstP50Ms / reference.firstP50Ms : Number.NaN,
        'lag p99 / in-process': reference ? r.lagP99Ms / reference.lagP99Ms : Number.NaN,
        'wall ms': r.wallMs,
      });
    }
  }
  printTable(`OfflineTts: main-thread event-loop lag while speaking ${LAG_SENTENCES} sentences back to back (monitorEventLoopDelay, 1 ms resolution), one child process per row`, rows);
  return results;
}

export async function run(): Promise<void> {
  const results: EngineResult[] = [];
  const survived = new Map<EngineName, string>();
  for (const engine of ENGINES) {
    const child = runChild(engine, 'measure');
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    results.push(line ? (JSON.parse(line) as EngineResult) : { engine, installed: false, error: `child exited ${child.status}: ${child.stderr.slice(0, 200)}` });
    if (results.at(-1)?.installed !== true) continue;
    const soaked = runChild(engine, 'soak');
    const oks = soaked.stdout.split('\n').filter((l) => l.startsWith('ok ')).length;
    survived.set(engine, soaked.status === 0 ? `${oks}/${SOAK}` : `${oks}/${SOAK}, then exit ${soaked.status}`);
  }
  const reference = results[0];
  const rows: Row[] = results.map((r): Row => {
    if (!r.installed) return { engine: r.engine, 'init ms': `not run: ${r.error ?? ''}` };
    return {
      engine: r.engine,
      'init ms': r.initMs!,
      'first sentence ms': r.coldFirstMs!,
      'cold p50 / p95 ms': `${r.coldP50Ms!.toFixed(0)} / ${r.coldP95Ms!.toFixed(0)}`,
      'warm p50 / p95 ms': `${r.firstP50Ms!.toFixed(1)} / ${r.firstP95Ms!.toFixed(1)}`,
      '× real time (warm)': r.realTimeFactor!,
      'RSS MB': r.rssMb!,
      'warm p50 / chosen': reference?.firstP50Ms ? r.firstP50Ms! / reference.firstP50Ms : Number.NaN,
      '×RT / chosen': reference?.realTimeFactor ? r.realTimeFactor! / reference.realTimeFactor : Number.NaN,
      'soak survived': survived.get(r.engine) ?? '',
    };
  });
  printTable(`Offline TTS: time to first audio per sentence (${CORPUS_SENTENCES.length} sentences cold, then again after ${WARM_UP} warm-up), one child process per engine`, rows);
  console.log('\nespeak-ng and mespeak synthesise on the event loop: their "first" is also how long one sentence blocks it.');
  console.log('OfflineTts runs its engine in a worker thread: see the event-loop lag table below.');
  const lag = runLag();
  console.log(`results: ${writeResults('tts', { results, soak: Object.fromEntries(survived), lag })}`);
}

const engineArg = process.argv[2];
if (engineArg === 'lag' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = (LAG_MODES as readonly string[]).includes(process.argv[3] ?? '') ? (process.argv[3] as LagMode) : 'worker';
  console.log(JSON.stringify(await measureLag(mode, process.argv[4] === 'cold' ? 'cold' : 'warm')));
  process.exit(0);
}
if (engineArg !== undefined && (ENGINES as readonly string[]).includes(engineArg) && process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[3] === 'soak') {
    await soak(engineArg as EngineName);
  } else {
    console.log(JSON.stringify(await measure(engineArg as EngineName)));
  }
  process.exit(0);
}
