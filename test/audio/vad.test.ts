// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EnergyVad, VAD_FRAME_MS, type VadEvent } from '../../src/audio/vad.js';
import type { SampleRate } from '../../src/audio/format.js';
import {
  buildCorpus,
  concat,
  CORPUS_SENTENCES,
  median,
  mulberry32,
  scoreVad,
  speakSentences,
  type NoiseKind,
} from '../helpers/speech-corpus.js';

/** Seeded white noise at `rms` (PCM16 units). */
function whiteNoise(samples: number, rms: number, seed: number): Int16Array {
  const rand = mulberry32(seed);
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round((rand() * 2 - 1) * rms * Math.sqrt(3));
  return out;
}

/** Adds a 300 Hz + 900 Hz "vowel" of `amplitude` over [fromMs, toMs) into `x`, in place. */
function addVowel(x: Int16Array, rate: number, fromMs: number, toMs: number, amplitude: number): Int16Array {
  for (let i = Math.round((fromMs * rate) / 1000); i < Math.round((toMs * rate) / 1000) && i < x.length; i++) {
    const t = i / rate;
    const v = x[i]! + amplitude * (Math.sin(2 * Math.PI * 300 * t) + 0.5 * Math.sin(2 * Math.PI * 900 * t));
    x[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return x;
}

function runAll(vad: EnergyVad, x: Int16Array, chunk: number): VadEvent[] {
  const events: VadEvent[] = [];
  for (let i = 0; i < x.length; i += chunk) events.push(...vad.process(x.subarray(i, i + chunk)));
  return events;
}

describe('EnergyVad on synthetic signals', () => {
  const rate: SampleRate = 8000;

  test('a vowel after noise starts speech near its onset and ends it after minSilenceMs', () => {
    const x = addVowel(whiteNoise(rate * 3, 100, 1), rate, 1000, 1800, 3000);
    const events = runAll(new EnergyVad({ sampleRate: rate, minSilenceMs: 300 }), x, 160);
    assert.equal(events.length, 2);
    const [start, end] = events;
    assert.equal(start?.type, 'speech-start');
    assert.ok(start.type === 'speech-start' && start.atMs >= 1000 && start.atMs <= 1000 + 40 + 2 * VAD_FRAME_MS, `start at ${start.atMs}`);
    assert.ok(start.type === 'speech-start' && Math.abs(start.onsetMs - 1000) <= VAD_FRAME_MS);
    assert.equal(end?.type, 'speech-end');
    assert.ok(end.atMs >= 1800 + 300 && end.atMs <= 1800 + 300 + 3 * VAD_FRAME_MS, `end at ${end.atMs}`);
    assert.ok(end.type === 'speech-end' && Math.abs(end.speechMs - 800) <= 3 * VAD_FRAME_MS, `speechMs ${end.type === 'speech-end' ? end.speechMs : ''}`);
  });

  test('digital silence and steady noise never start speech', () => {
    assert.deepEqual(runAll(new EnergyVad({ sampleRate: rate }), new Int16Array(rate * 2), 160), []);
    assert.deepEqual(runAll(new EnergyVad({ sampleRate: 16000 }), whiteNoise(16000 * 5, 2000, 7), 320), []);
  });

  // Regression (86b14b9): fed exact zeros after sound, the filters' state decayed into subnormal
  // numbers and stayed there, costing x86 ~100× per sample (measured by `npm run bench -- vad`).
  // Speed is not asserted in unit tests; the state it came from is, white-box.
  test('digital silence after sound settles the filter state to exactly 0', () => {
    for (const rate of [8000, 16000] as const) {
      const vad = new EnergyVad({ sampleRate: rate });
      runAll(vad, addVowel(whiteNoise(rate / 2, 300, 7), rate, 100, 400, 6000), rate / 50);
      runAll(vad, new Int16Array(rate * 2), rate / 50);
      const state = vad as unknown as Record<'highpass' | 'lowpass', { x1: number; x2: number; y1: number; y2: number } | undefined>;
      for (const filter of [state.highpass, state.lowpass]) {
        if (filter !== undefined) assert.deepEqual([filter.x1, filter.x2, filter.y1, filter.y2], [0, 0, 0, 0], `${rate} Hz`);
      }
    }
  });

  test('a click shorter than minSpeechMs does not start speech', () => {
    const x = addVowel(whiteNoise(rate * 2, 100, 3), rate, 1000, 1020, 8000);
    assert.deepEqual(runAll(new EnergyVad({ sampleRate: rate }), x, 160), []);
  });

  test('speech quieter than minLevelDb is ignored even in digital silence', () => {
    const x = addVowel(new Int16Array(rate * 2), rate, 500, 1500, 20); // ≈ −63 dBFS
    assert.deepEqual(runAll(new EnergyVad({ sampleRate: rate }), x, 160), []);
    assert.equal(runAll(new EnergyVad({ sampleRate: rate, minLevelDb: -80 }), x, 160).length, 1);
  });

  test('levelDb reports the band-limited level of the last frame in dBFS', () => {
    const vad = new EnergyVad({ sampleRate: 16000 });
    const tone = new Int16Array(1600);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(3277 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    vad.process(tone);
    assert.ok(Math.abs(vad.levelDb - -23) < 0.5, `levelDb ${vad.levelDb}`); // −20 dBFS peak = −23 dBFS RMS
  });

  test('process returns one reused array, and reset() starts time again at 0', () => {
    const vad = new EnergyVad({ sampleRate: rate, minSilenceMs: 200 });
    const x = addVowel(whiteNoise(rate, 100, 5), rate, 300, 600, 3000);
    const first = vad.process(x);
    assert.equal(vad.process(new Int16Array(0)), first);
    vad.reset();
    assert.equal(vad.speaking, false);
    const again = [...vad.process(x)];
    assert.equal(again[0]?.type, 'speech-start');
    assert.ok(again[0].atMs < 400, 'time restarted from 0');
  });

  test('rejects a stop threshold above the start threshold', () => {
    assert.throws(() => new EnergyVad({ sampleRate: rate, startThresholdDb: 3, stopThresholdDb: 6 }), RangeError);
  });

  test('events do not depend on how the input is chunked (property)', () => {
    const x = addVowel(addVowel(whiteNoise(rate * 4, 300, 11), rate, 700, 1400, 2500), rate, 2200, 3100, 1500);
    const reference = runAll(new EnergyVad({ sampleRate: rate, minSilenceMs: 300 }), x, x.length);
    assert.equal(reference.length, 4, 'the signal has two utterances');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (cuts) => {
        const vad = new EnergyVad({ sampleRate: rate, minSilenceMs: 300 });
        const events: VadEvent[] = [];
        let at = 0;
        for (let i = 0; at < x.length; i++) {
          const size = cuts[i % cuts.length]!;
          events.push(...vad.process(x.subarray(at, at + size)));
          at += size;
        }
        assert.deepEqual(events, reference);
      }),
      { numRuns: 40 },
    );
  });
});

describe('EnergyVad on the generated speech corpus (offline TTS + noise, seeded)', () => {
  let speech: Int16Array[] = [];
  before(async () => {
    // Six sentences keep the test quick; the benchmark runs all ten at every SNR.
    speech = await speakSentences(CORPUS_SENTENCES.slice(0, 6), 16000);
  });

  test('the corpus speech is real: every sentence is 0.3–5 s of non-silent audio', () => {
    assert.equal(speech.length, 6);
    for (const s of speech) {
      assert.ok(s.length > 0.3 * 16000 && s.length < 5 * 16000, `length ${s.length}`);
      assert.ok(concat([s]).some((v) => Math.abs(v) > 1000));
    }
  });

  for (const noise of ['white', 'pink', 'babble'] as NoiseKind[]) {
    test(`at 10 dB SNR in ${noise} noise: median onset ≤ 150 ms, no misses, no false triggers, every turn ends`, () => {
      const corpus = buildCorpus({ sampleRate: 16000, speech, noise, snrDb: 10, seed: 42 });
      const events = runAll(new EnergyVad({ sampleRate: 16000 }), corpus.samples, 320);
      const score = scoreVad(events, corpus);
      assert.equal(score.misses, 0, JSON.stringify(score));
      assert.equal(score.falseTriggers, 0, JSON.stringify(score));
      assert.equal(score.noiseOnlySpeechMs, 0, JSON.stringify(score));
      assert.equal(score.missedEnds, 0, JSON.stringify(score));
      assert.ok(median(score.latenciesMs) <= 150, JSON.stringify(score));
    });
  }

  test('the scorer can fail: a deaf detector misses everything, a trigger-happy one fires on noise', () => {
    const corpus = buildCorpus({ sampleRate: 16000, speech, noise: 'white', snrDb: 10, seed: 42 });
    const deaf = scoreVad(runAll(new EnergyVad({ sampleRate: 16000, minLevelDb: 0 }), corpus.samples, 320), corpus);
    assert.equal(deaf.misses, speech.length);
    const jumpy = new EnergyVad({ sampleRate: 16000, startThresholdDb: 0.5, stopThresholdDb: 0, minSpeechMs: 10, minSilenceMs: 50 });
    assert.ok(scoreVad(runAll(jumpy, corpus.samples, 320), corpus).falseTriggers > 0);
  });
});
