/**
 * A generated, seeded corpus for judging voice activity detection: sentences spoken by the offline
 * TTS, placed between stretches of noise (white, pink or babble made of the same sentences) at a
 * chosen SNR, ending with a noise-only stretch. Ground truth comes from the clean speech, so the
 * figures need no hand labels. Shared by test/audio/vad.test.ts and bench/vad.bench.ts.
 *
 * Deterministic: the noise comes from a seeded PRNG, and eSpeak NG's output for a given sequence
 * of sentences in a fresh process is the same every run (it varies by a few samples when the same
 * engine has spoken other sentences before, which moves the ground truth with it).
 */
import type { SampleRate } from '../../src/audio/format.js';
import type { VadEvent } from '../../src/audio/vad.js';
import { OfflineTts, resampleSentence } from '../../src/models/cascade/tts-offline.js';
import { mulberry32 } from '../../src/models/cascade/demo-agent.js';

export type NoiseKind = 'white' | 'pink' | 'babble';

/** Ten sentences of the kind a voice agent hears: short and long, questions, numbers. */
export const CORPUS_SENTENCES: readonly string[] = [
  'Hello, I would like to change my delivery address.',
  'Yes.',
  'Can you tell me when the next train to Boston leaves?',
  'My account number is four five seven two nine.',
  'No, that is not what I asked for.',
  'Could you please repeat the last part more slowly?',
  'I think the order arrived damaged on Tuesday.',
  'Thanks, that works for me.',
  'What time does the pharmacy close tonight?',
  'Please cancel the appointment and call me back tomorrow morning.',
];

export { mulberry32 };

/** Speaks `sentences` with the offline TTS at `sampleRate` (fresh PCM per sentence). */
export async function speakSentences(sentences: readonly string[], sampleRate: SampleRate): Promise<Int16Array[]> {
  const tts = new OfflineTts({ outputRate: 24000 });
  const out: Int16Array[] = [];
  for (const sentence of sentences) {
    const parts: Int16Array[] = [];
    for await (const chunk of tts.synthesize(sentence)) parts.push(chunk.slice());
    const pcm = concat(parts);
    out.push(sampleRate === 24000 ? pcm : resampleSentence(pcm, 24000, sampleRate));
  }
  return out;
}

export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const FRAME_MS = 10;

/** Levels (dB re full scale, mean square) of 10 ms frames. */
function frameLevels(x: ArrayLike<number>, sampleRate: number): Float64Array {
  const n = (sampleRate * FRAME_MS) / 1000;
  const levels = new Float64Array(Math.floor(x.length / n));
  for (let f = 0; f < levels.length; f++) {
    let s = 0;
    for (let i = f * n; i < (f + 1) * n; i++) s += (x[i]! / 32768) ** 2;
    levels[f] = 10 * Math.log10(s / n + 1e-12);
  }
  return levels;
}

/** Active speech level (simplified P.56): mean power of frames within 35 dB of the loudest. */
function activeLevelDb(x: Int16Array, sampleRate: number): number {
  const levels = frameLevels(x, sampleRate);
  const max = Math.max(...levels);
  let sum = 0;
  let count = 0;
  for (const l of levels) {
    if (l > max - 35) {
      sum += 10 ** (l / 10);
      count++;
    }
  }
  return 10 * Math.log10(sum / count);
}

function noise(kind: NoiseKind, length: number, rand: () => number, speech: readonly Int16Array[]): Float64Array {
  const out = new Float64Array(length);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  if (kind === 'white') {
    for (let i = 0; i < length; i++) out[i] = gauss();
  } else if (kind === 'pink') {
    // Paul Kellet's refined filter: −3 dB/octave within ±0.05 dB above ≈ 10 Hz·(fs/44.1 k).
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
    for (let i = 0; i < length; i++) {
      const w = gauss();
      b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759;
      b2 = 0.969 * b2 + w * 0.153852; b3 = 0.8665 * b3 + w * 0.3104856;
      b4 = 0.55 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.016898;
      out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
      b6 = w * 0.115926;
    }
  } else {
    // Babble: six talkers, each the sentences back to back from a random start, at random gains.
    const talk = concat(speech);
    for (let t = 0; t < 6; t++) {
      const offset = Math.floor(rand() * talk.length);
      const gain = 0.5 + rand();
      for (let i = 0; i < length; i++) out[i]! += gain * talk[(offset + i) % talk.length]!;
    }
  }
  return out;
}

/** One utterance's ground truth, in ms from the start of the corpus. */
export interface Segment {
  readonly onMs: number;
  readonly offMs: number;
}

export interface Corpus {
  readonly sampleRate: SampleRate;
  readonly samples: Int16Array;
  readonly segments: readonly Segment[];
  /** The final stretch with noise only. */
  readonly noiseOnly: { readonly fromMs: number; readonly toMs: number };
}

export interface CorpusOptions {
  readonly sampleRate: SampleRate;
  /** The utterances, at `sampleRate` (from {@link speakSentences}). */
  readonly speech: readonly Int16Array[];
  readonly noise: NoiseKind;
  /** Active speech level over long-term noise level. `Infinity` for clean speech. */
  readonly snrDb: number;
  readonly seed: number;
  /** Active speech level, dBFS. Default −26 (telephone speech level). */
  readonly speechLevelDb?: number;
  readonly leadMs?: number;
  readonly gapMs?: number;
  readonly noiseOnlyMs?: number;
}

/** Lays out noise, utterance, gap, utterance, …, noise-only stretch; returns audio and truth. */
export function buildCorpus(o: CorpusOptions): Corpus {
  const rate = o.sampleRate;
  const ms = (n: number): number => Math.round((n * rate) / 1000);
  const lead = ms(o.leadMs ?? 1500);
  const gap = ms(o.gapMs ?? 1500);
  const tail = ms(o.noiseOnlyMs ?? 5000);
  const speechLevel = o.speechLevelDb ?? -26;
  const length = lead + o.speech.reduce((n, s) => n + s.length + gap, 0) - gap + tail;
  const mix = new Float64Array(length);
  const segments: Segment[] = [];
  let at = lead;
  for (const utterance of o.speech) {
    const gain = 10 ** ((speechLevel - activeLevelDb(utterance, rate)) / 20);
    const levels = frameLevels(utterance, rate);
    const active = activeLevelDb(utterance, rate);
    let first = levels.findIndex((l) => l > active - 25);
    let last = levels.length - 1;
    while (last > 0 && levels[last]! <= active - 25) last--;
    if (first < 0) first = 0;
    segments.push({ onMs: (at * 1000) / rate + first * FRAME_MS, offMs: (at * 1000) / rate + (last + 1) * FRAME_MS });
    for (let i = 0; i < utterance.length; i++) mix[at + i] = utterance[i]! * gain;
    at += utterance.length + gap;
  }
  if (Number.isFinite(o.snrDb)) {
    const n = noise(o.noise, length, mulberry32(o.seed), o.speech);
    let power = 0;
    for (const v of n) power += v * v;
    const rms = Math.sqrt(power / length);
    const target = 32768 * 10 ** ((speechLevel - o.snrDb) / 20);
    for (let i = 0; i < length; i++) mix[i]! += (n[i]! * target) / rms;
  }
  const samples = new Int16Array(length);
  for (let i = 0; i < length; i++) samples[i] = Math.max(-32768, Math.min(32767, Math.round(mix[i]!)));
  const fromMs = ((length - tail) * 1000) / rate;
  return { sampleRate: rate, samples, segments, noiseOnly: { fromMs, toMs: (length * 1000) / rate } };
}

export interface VadScore {
  /** Onset latency per detected utterance: ms from true onset to the speech-start decision. */
  readonly latenciesMs: number[];
  readonly misses: number;
  /** speech-start outside every utterance window. */
  readonly falseTriggers: number;
  /** Of those, how many fell in the final noise-only stretch. */
  readonly noiseOnlyFalseTriggers: number;
  /** Extra speech-starts inside an utterance window (the utterance was cut in pieces). */
  readonly splits: number;
  /** Utterances not followed by a speech-end before the next onset (or the corpus end): turns never closed. */
  readonly missedEnds: number;
  /** Time flagged as speech inside the final noise-only stretch, from 1 s into it. */
  readonly noiseOnlySpeechMs: number;
}

/**
 * Scores `events` against the corpus truth. An utterance's window runs from 50 ms before its onset
 * to `tailMs` after its offset; a speech-start in it detects it (the first one gives the latency,
 * clamped at 0), later ones are splits. An utterance is also detected, at latency 0, when speech
 * was already on at its onset.
 */
export function scoreVad(events: readonly VadEvent[], corpus: Corpus, tailMs = 300): VadScore {
  const latenciesMs: number[] = [];
  let misses = 0;
  let splits = 0;
  const starts = events.filter((e) => e.type === 'speech-start').map((e) => e.atMs);
  const used = new Set<number>();
  for (const seg of corpus.segments) {
    const inside = starts.filter((t) => t >= seg.onMs - 50 && t <= seg.offMs + tailMs);
    inside.forEach((t) => used.add(t));
    if (inside.length > 0) {
      latenciesMs.push(Math.max(0, inside[0]! - seg.onMs));
      splits += inside.length - 1;
    } else if (speakingAt(events, seg.onMs)) {
      latenciesMs.push(0);
    } else {
      misses++;
    }
  }
  const stray = starts.filter((t) => !used.has(t));
  const noiseOnlyFalseTriggers = stray.filter((t) => t >= corpus.noiseOnly.fromMs).length;
  let missedEnds = 0;
  corpus.segments.forEach((seg, i) => {
    const until = corpus.segments[i + 1]?.onMs ?? corpus.noiseOnly.toMs;
    if (!events.some((e) => e.type === 'speech-end' && e.atMs > seg.offMs && e.atMs <= until)) missedEnds++;
  });
  const noiseOnlySpeechMs = speechMsWithin(events, corpus.noiseOnly.fromMs + 1000, corpus.noiseOnly.toMs);
  return { latenciesMs, misses, falseTriggers: stray.length, noiseOnlyFalseTriggers, splits, missedEnds, noiseOnlySpeechMs };
}

function speechMsWithin(events: readonly VadEvent[], fromMs: number, toMs: number): number {
  let total = 0;
  let speakingSince = speakingAt(events, fromMs) ? fromMs : Number.NaN;
  for (const e of events) {
    if (e.atMs <= fromMs || e.atMs > toMs) continue;
    if (e.type === 'speech-start') speakingSince = e.atMs;
    else if (!Number.isNaN(speakingSince)) {
      total += e.atMs - speakingSince;
      speakingSince = Number.NaN;
    }
  }
  if (!Number.isNaN(speakingSince)) total += toMs - speakingSince;
  return total;
}

function speakingAt(events: readonly VadEvent[], ms: number): boolean {
  let speaking = false;
  for (const e of events) {
    if (e.atMs > ms) break;
    speaking = e.type === 'speech-start';
  }
  return speaking;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
