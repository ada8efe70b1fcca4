/**
 * Audio helpers against the libraries we could use instead, measured in the same run:
 * - μ-law codec vs alawmulaw: × real time per 20 ms frame, bytes allocated per frame;
 * - StreamingResampler vs libsamplerate-js (SINC_MEDIUM_QUALITY, wasm) and the Speex resampler
 *   (wasm, quality 5 and 8): quality (multi-tone SNR against the ideal signal, passband deviation,
 *   rejection, latency), speed (× real time per stream, 20 ms frames), bytes allocated per frame,
 *   memory per instance.
 * The machine is shared and noisy: implementations take turns in short rounds and keep their
 * best round, and every speed is also given as a ratio against the others of the same run.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import alawmulaw from 'alawmulaw';
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import type { SampleRate } from '../src/audio/format.js';
import { decodeMulaw, encodeMulaw } from '../src/audio/mulaw.js';
import { StreamingResampler } from '../src/audio/resampler.js';
import { db, fitTones, rms, synthesize, synthesizePcm16, toneDelaySeconds, type ToneFit } from '../src/audio/resampler-analysis.js';
import { printTable, writeResults, type Row } from './report.js';

const { mulaw } = alawmulaw;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DIRECTIONS: ReadonlyArray<readonly [SampleRate, SampleRate]> = [
  [8000, 16000], [16000, 8000], [8000, 24000], [24000, 8000], [16000, 24000], [24000, 16000],
];
const FRAME_MS = 20;
const OURS = 'voicewire';

// ---------------------------------------------------------------------------------------------
// Measurement plumbing

/** Results are kept here so the optimiser cannot drop an allocation nobody reads. */
const sink: unknown[] = new Array<unknown>(1024).fill(undefined);

/** Start times of recent GCs (performance.now() clock), to tell whether one hit a measurement. */
const gcStarts: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
  if (gcStarts.length > 64) gcStarts.splice(0, gcStarts.length - 64);
}).observe({ entryTypes: ['gc'] });

/** Collects garbage and lets finalizers run (wasm memories are released late). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function heapNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes allocated per call: heap + ArrayBuffer growth over n calls, retried if a GC hid some. */
async function bytesPerCall(fn: () => unknown, n = 10_000): Promise<number> {
  for (let i = 0; i < 200; i++) sink[i & 1023] = fn();
  for (let attempt = 0; attempt < 4; attempt++, n = Math.ceil(n / 2)) {
    await settle();
    const t0 = performance.now();
    const before = heapNow();
    for (let i = 0; i < n; i++) sink[i & 1023] = fn();
    const after = heapNow();
    const t1 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5)); // GC entries arrive asynchronously
    if (!gcStarts.some((t) => t >= t0 && t <= t1)) return Math.max(0, (after - before) / n);
  }
  return NaN;
}

/** × real time of each 20 ms-frame function: turns of `ms`, best of 5 after one warm-up round. */
function bestOfRounds(frames: ReadonlyMap<string, () => unknown>, ms = 60): Map<string, number> {
  const best = new Map<string, number>();
  for (let round = 0; round < 6; round++) {
    for (const [name, fn] of frames) {
      let count = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        for (let i = 0; i < 50; i++) sink[count++ & 1023] = fn();
      }
      const xrt = (count * FRAME_MS) / (performance.now() - start);
      if (round > 0) best.set(name, Math.max(best.get(name) ?? 0, xrt));
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Resamplers behind one face: PCM16 20 ms frames in, PCM16 out (a reused view)

interface Resampler {
  process(input: Int16Array): Int16Array;
  destroy(): void;
}
type Factory = (from: SampleRate, to: SampleRate) => Promise<Resampler>;

function ours(from: SampleRate, to: SampleRate): Promise<Resampler> {
  const r = new StreamingResampler(from, to);
  return Promise.resolve({ process: (input) => r.process(input), destroy: () => undefined });
}

function clip16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Output of an adapter: a PCM16 buffer and a view cached by length (no garbage per frame). */
function outputOf(maxOut: number): { pcm: Int16Array; view(length: number): Int16Array } {
  const pcm = new Int16Array(maxOut);
  let last = pcm.subarray(0, 0);
  return { pcm, view: (length) => (last.length === length ? last : (last = pcm.subarray(0, length))) };
}

async function libsamplerateMedium(from: SampleRate, to: SampleRate): Promise<Resampler> {
  const src = await libsamplerate.create(1, from, to, { converterType: libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY });
  const maxIn = (from * FRAME_MS) / 1000;
  const out = outputOf(Math.ceil((maxIn * to) / from) + 16);
  const inF = new Float32Array(maxIn);
  const outF = new Float32Array(out.pcm.length);
  const written = { frames: 0 };
  return {
    process(input) {
      const view = input.length === maxIn ? inF : inF.subarray(0, input.length);
      for (let i = 0; i < input.length; i++) view[i] = input[i]! / 32768;
      src.full(view, outF, written);
      for (let i = 0; i < written.frames; i++) out.pcm[i] = clip16(outF[i]! * 32768);
      return out.view(written.frames);
    },
    destroy: () => src.destroy(),
  };
}

/** The Emscripten module of @echogarden/speex-resampler-wasm (the package ships no types). */
interface SpeexModule {
  HEAP16: Int16Array;
  HEAPU32: Uint32Array;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_process_int(st: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
  _speex_resampler_destroy(st: number): void;
}
let speexModule: SpeexModule | undefined;

async function loadSpeex(): Promise<SpeexModule> {
  if (speexModule === undefined) {
    const specifier: string = '@echogarden/speex-resampler-wasm'; // untyped: import by value
    const mod = (await import(specifier)) as { default: () => Promise<SpeexModule> };
    speexModule = await mod.default();
  }
  return speexModule;
}

/** Speex at `quality` (0–10): one shared wasm module, one resampler state per stream. */
function speex(quality: number): Factory {
  return async (from, to) => {
    const m = await loadSpeex();
    const maxIn = (from * FRAME_MS) / 1000;
    const out = outputOf(Math.ceil((maxIn * to) / from) + 16);
    const inPtr = m._malloc(2 * maxIn + 2 * out.pcm.length + 8);
    const outPtr = inPtr + 2 * maxIn;
    const lenPtr = outPtr + 2 * out.pcm.length; // [in_len, out_len] as uint32
    const st = m._speex_resampler_init(1, from, to, quality, lenPtr);
    return {
      process(input) {
        m.HEAP16.set(input, inPtr >> 1);
        m.HEAPU32[lenPtr >> 2] = input.length;
        m.HEAPU32[(lenPtr >> 2) + 1] = out.pcm.length;
        m._speex_resampler_process_int(st, 0, inPtr, lenPtr, outPtr, lenPtr + 4);
        const produced = m.HEAPU32[(lenPtr >> 2) + 1]!;
        const heap = m.HEAP16;
        for (let i = 0, base = outPtr >> 1; i < produced; i++) out.pcm[i] = heap[base + i]!;
        return out.view(produced);
      },
      destroy() {
        m._speex_resampler_destroy(st);
        m._free(inPtr);
      },
    };
  };
}

const IMPLEMENTATIONS: ReadonlyArray<{ name: string; create: Factory }> = [
  { name: OURS, create: ours },
  { name: 'libsamplerate MEDIUM', create: libsamplerateMedium },
  { name: 'speex q5', create: speex(5) },
  { name: 'speex q8', create: speex(8) },
];

// ---------------------------------------------------------------------------------------------
// Resampler quality

/** Feeds `input` in 20 ms frames to a new stream and returns a copy of everything produced. */
async function resample(create: Factory, from: SampleRate, to: SampleRate, input: Int16Array): Promise<Int16Array> {
  const r = await create(from, to);
  const frame = (from * FRAME_MS) / 1000;
  const out = new Int16Array(Math.ceil((input.length * to) / from) + 64);
  let o = 0;
  for (let at = 0; at + frame <= input.length; at += frame) {
    const y = r.process(input.subarray(at, at + frame));
    out.set(y, o);
    o += y.length;
  }
  r.destroy();
  return out.slice(0, o);
}

function passbandEdgeOf(from: number, to: number): number {
  return from === 8000 || to === 8000 ? 3400 : 7000;
}

/**
 * SNR of a multi-tone passband signal (plus, when downsampling, one out-of-band tone that must
 * vanish) against the ideal output: the same tones at unit gain, delayed by the measured delay.
 * Gain error, phase non-linearity, images, aliases and rounding all count as noise.
 */
async function multiToneSnr(create: Factory, from: SampleRate, to: SampleRate): Promise<{ snr: number; latencyMs: number }> {
  const skip = Math.round(0.1 * to);
  const passband = from === 8000 || to === 8000 ? [211, 743, 1409, 2281, 3163, 3391] : [211, 1409, 3163, 5009, 6203, 6997];
  // 23 Hz: a period (43 ms) longer than any latency here makes the delay estimate unambiguous.
  const tones: ToneFit[] = [23, ...passband].map((frequency, i) => ({ frequency, amplitude: 3000, phase: i }));
  const outOfBand: ToneFit[] = to < from ? [{ frequency: to === 8000 ? 5501 : 10007, amplitude: 3000, phase: 0 }] : [];
  const input = synthesizePcm16(2 * from, from, [...tones, ...outOfBand]);
  const y = await resample(create, from, to, input);
  // Delay: coarse from 23 Hz, then the f²-weighted least-squares delay over all tones of a joint
  // fit (a tone fitted alone is biased by its neighbours' leakage).
  const fit = fitTones(y, skip, y.length, to, tones.map((t) => t.frequency));
  const coarse = toneDelaySeconds(23, tones[0]!.phase, fit.tones[0]!.phase, skip / to, 0.005);
  let weighted = 0;
  let weights = 0;
  fit.tones.forEach((t, i) => {
    weighted += t.frequency ** 2 * toneDelaySeconds(t.frequency, tones[i]!.phase, t.phase, skip / to, coarse);
    weights += t.frequency ** 2;
  });
  const delay = weighted / weights;
  const ideal = synthesize(y.length, to, tones.map((t) => ({ ...t, phase: t.phase - 2 * Math.PI * t.frequency * delay })));
  let signal = 0;
  let noise = 0;
  for (let n = skip; n < y.length - skip; n++) {
    signal += ideal[n]! ** 2;
    noise += (y[n]! - ideal[n]!) ** 2;
  }
  // A converter that starts late (libsamplerate holds samples back) has that much more latency.
  const withheld = (input.length * to) / from - y.length;
  return { snr: 10 * Math.log10(signal / noise), latencyMs: (delay + withheld / to) * 1000 };
}

async function quality(create: Factory, from: SampleRate, to: SampleRate): Promise<Row> {
  const skip = Math.round(0.1 * to);
  const edge = passbandEdgeOf(from, to);
  let deviation = 0;
  let worst = -Infinity;
  for (const f of [101, edge / 2 + 13, edge - 150, edge]) {
    const y = await resample(create, from, to, synthesizePcm16(from / 2, from, [{ frequency: f, amplitude: 16000, phase: 0 }]));
    const fit = fitTones(y, skip, y.length, to, [f]);
    deviation = Math.max(deviation, Math.abs(db(fit.tones[0]!.amplitude / 16000)));
    if (to > from) worst = Math.max(worst, db(fit.residualRms / fit.signalRms)); // images + rounding
  }
  const leakAt = async (f: number): Promise<number> => {
    const x = synthesizePcm16(from / 2, from, [{ frequency: f, amplitude: 30000, phase: 0 }]);
    return db(rms(await resample(create, from, to, x), skip) / rms(x));
  };
  let transition: number | string = '—';
  if (to < from) {
    const stopEdge = to === 8000 ? 4600 : 8000;
    for (const f of [stopEdge, stopEdge + 411, from / 2 - 103]) worst = Math.max(worst, await leakAt(f));
    if (to === 8000) transition = await leakAt(4200);
  }
  const { snr, latencyMs } = await multiToneSnr(create, from, to);
  return {
    'SNR multitone dB': snr,
    'passband dev dB': deviation,
    'worst image/alias dB': worst,
    '4.2 kHz leak dB': transition,
    'latency ms': latencyMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Speed, allocation, memory

async function speedRows(from: SampleRate, to: SampleRate, direction: string): Promise<Row[]> {
  const frame = (from * FRAME_MS) / 1000;
  const input = synthesizePcm16(from, from, [{ frequency: 997, amplitude: 10000, phase: 0 }]);
  const views = Array.from({ length: input.length / frame }, (_, i) => input.subarray(i * frame, (i + 1) * frame));
  const streams = await Promise.all(IMPLEMENTATIONS.map(async (impl) => [impl.name, await impl.create(from, to)] as const));
  const fns = new Map(streams.map(([name, r]) => {
    let i = 0;
    return [name, () => r.process(views[i++ % views.length]!)] as const;
  }));
  const xrt = bestOfRounds(fns);
  const rows: Row[] = [];
  for (const [name, fn] of fns) {
    const speed = xrt.get(name)!;
    rows.push({ direction, implementation: name, '× real time': speed, 'voicewire ÷ this': xrt.get(OURS)! / speed, 'bytes/frame': await bytesPerCall(fn) });
  }
  for (const [, r] of streams) r.destroy();
  return rows;
}

/** Memory per live instance (each has processed a frame): JS heap + ArrayBuffers + wasm heap growth, and RSS. */
async function memoryPerInstance(create: Factory, count: number, from: SampleRate, to: SampleRate): Promise<{ bytes: number; rss: number }> {
  const frame = new Int16Array((from * FRAME_MS) / 1000);
  const warm = await create(from, to); // loads shared tables / the wasm module outside the count
  warm.process(frame);
  await settle();
  const before = heapNow() + (speexModule?.HEAPU8.length ?? 0);
  const rssBefore = process.memoryUsage().rss;
  const live: Resampler[] = [];
  for (let i = 0; i < count; i++) {
    const r = await create(from, to);
    r.process(frame);
    live.push(r);
  }
  await settle();
  const bytes = (heapNow() + (speexModule?.HEAPU8.length ?? 0) - before) / count;
  const rss = Math.max(0, (process.memoryUsage().rss - rssBefore) / count);
  for (const r of live) r.destroy();
  warm.destroy();
  live.length = 0;
  await settle();
  return { bytes, rss };
}

async function memoryRows(): Promise<Row[]> {
  const rows: Row[] = [];
  // libsamplerate-js instantiates a whole wasm module (its own linear memory) per converter: fewer
  // instances, measured last because the GC frees those memories late and would skew the others.
  const order = [...IMPLEMENTATIONS].sort((a, b) => Number(a.name.startsWith('lib')) - Number(b.name.startsWith('lib')));
  for (const [from, to] of [[8000, 24000], [16000, 24000]] as const) {
    for (const impl of order) {
      const count = impl.name.startsWith('libsamplerate') ? 20 : 1000;
      const { bytes, rss } = await memoryPerInstance(impl.create, count, from, to);
      rows.push({ direction: `${from / 1000}k→${to / 1000}k`, implementation: impl.name, instances: count, 'bytes/instance': bytes, 'RSS/instance': rss });
    }
  }
  return rows;
}

async function codecRows(): Promise<Row[]> {
  const frame = synthesizePcm16(160, 8000, [{ frequency: 440, amplitude: 12000, phase: 0 }, { frequency: 1700, amplitude: 6000, phase: 1 }]);
  const codes = new Uint8Array(160);
  encodeMulaw(frame, codes);
  const pcmOut = new Int16Array(160);
  const codeOut = new Uint8Array(160);
  const ops: Record<'encode' | 'decode', Map<string, () => unknown>> = {
    encode: new Map<string, () => unknown>([
      [`${OURS} encodeMulaw (into buffer)`, () => encodeMulaw(frame, codeOut)],
      ['alawmulaw mulaw.encode (new array)', () => mulaw.encode(frame)],
      ['alawmulaw encodeSample loop (into buffer)', () => { for (let i = 0; i < 160; i++) codeOut[i] = mulaw.encodeSample(frame[i]!); }],
    ]),
    decode: new Map<string, () => unknown>([
      [`${OURS} decodeMulaw (into buffer)`, () => decodeMulaw(codes, pcmOut)],
      ['alawmulaw mulaw.decode (new array)', () => mulaw.decode(codes)],
      ['alawmulaw decodeSample loop (into buffer)', () => { for (let i = 0; i < 160; i++) pcmOut[i] = mulaw.decodeSample(codes[i]!); }],
    ]),
  };
  const rows: Row[] = [];
  for (const [op, fns] of Object.entries(ops)) {
    const xrt = bestOfRounds(fns, 100);
    const mine = [...xrt].find(([name]) => name.startsWith(OURS))![1];
    for (const [name, fn] of fns) {
      rows.push({ op, implementation: name, '× real time': xrt.get(name)!, 'voicewire ÷ this': mine / xrt.get(name)!, 'bytes/frame': await bytesPerCall(fn) });
    }
  }
  return rows;
}

export async function run(): Promise<void> {
  const codec = await codecRows();
  printTable('μ-law codec, 20 ms frames (160 samples)', codec);

  const qualityTable: Row[] = [];
  const speedTable: Row[] = [];
  for (const [from, to] of DIRECTIONS) {
    const direction = `${from / 1000}k→${to / 1000}k`;
    for (const impl of IMPLEMENTATIONS) {
      qualityTable.push({ direction, implementation: impl.name, ...(await quality(impl.create, from, to)) });
    }
    speedTable.push(...(await speedRows(from, to, direction)));
  }
  printTable('Resampler quality (one stream, 20 ms frames; dB re. signal)', qualityTable);
  printTable('Resampler speed per stream (20 ms frames)', speedTable);

  const memory = await memoryRows();
  printTable('Memory per resampler instance (after one frame)', memory);

  const path = writeResults('audio', { codec, quality: qualityTable, speed: speedTable, memory });
  console.log(`\nresults: ${path}`);
}
