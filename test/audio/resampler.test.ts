// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SampleRate } from '../../src/audio/format.js';
import { StreamingResampler } from '../../src/audio/resampler.js';
import { polyphaseTable } from '../../src/audio/resampler-design.js';
import { db, fitTones, rms, synthesizePcm16, toneDelaySeconds } from '../../src/audio/resampler-analysis.js';
import { isVoicewireError } from '../../src/errors.js';

const DIRECTIONS: ReadonlyArray<readonly [SampleRate, SampleRate]> = [
  [8000, 16000],
  [16000, 8000],
  [8000, 24000],
  [24000, 8000],
  [16000, 24000],
  [24000, 16000],
];

/** Edge of the band that must stay flat: 3.4 kHz whenever 8 kHz is involved, else 7 kHz. */
function passbandOf(from: number, to: number): number {
  return from === 8000 || to === 8000 ? 3400 : 7000;
}

/** Lowest input frequency that must be removed ≥ 70 dB when downsampling (see resampler-design.ts). */
function stopEdgeOf(from: number, to: number): number {
  return from === 8000 || to === 8000 ? 4600 : 8000;
}

/** Where a component at `f` lands after sampling at `rate` (folded into 0..rate/2). */
function fold(f: number, rate: number): number {
  const r = ((f % rate) + rate) % rate;
  return r > rate / 2 ? rate - r : r;
}

/** Image/alias frequencies a tone `f` can leave in the output (zero-stuffing by L, then decimation by M). */
function imagesOf(f: number, from: number, to: number): number[] {
  const up = Math.max(1, Math.round(to / gcd(from, to)));
  const found = new Set<number>();
  for (let k = 1; k <= up; k++) {
    for (const image of [k * from - f, k * from + f]) {
      const landed = fold(image, to);
      if (Math.abs(landed - f) > 50 && landed > 20 && landed < to / 2 - 20) found.add(landed);
    }
  }
  return [...found];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Passband test tones: odd frequencies (no short period in common with the rates) up to the edge. */
function passbandTones(edge: number): number[] {
  return edge === 3400 ? [101, 557, 1013, 2027, 2999, 3400] : [101, 1013, 3011, 5003, 6007, 7000];
}

/** Runs `input` through a fresh resampler and returns a copy of the whole output. */
function resampleAll(from: SampleRate, to: SampleRate, input: Int16Array): Int16Array {
  return new StreamingResampler(from, to).process(input).slice();
}

function resampleInPieces(from: SampleRate, to: SampleRate, input: Int16Array, cuts: readonly number[]): Int16Array {
  const r = new StreamingResampler(from, to);
  const parts: Int16Array[] = [];
  let at = 0;
  for (const cut of [...cuts, input.length]) {
    const end = Math.min(input.length, Math.max(at, cut));
    parts.push(r.process(input.subarray(at, end)).slice());
    at = end;
  }
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

for (const [from, to] of DIRECTIONS) {
  const edge = passbandOf(from, to);
  describe(`StreamingResampler ${from} → ${to} Hz`, () => {
    test(`keeps tones up to ${edge} Hz within 0.1 dB, delayed by delaySamples ≤ 3 ms, ≥ 70 dB SNR`, () => {
      const r = new StreamingResampler(from, to);
      assert.ok(r.delaySamples / to <= 0.003, `delay ${r.delaySamples} samples at ${to} Hz`);
      assert.ok(Number.isInteger(r.delaySamples));
      const amplitude = 16000;
      const inputPhase = 0.3;
      for (const f of passbandTones(edge)) {
        r.reset();
        const x = synthesizePcm16(from / 2, from, [{ frequency: f, amplitude, phase: inputPhase }]);
        const y = r.process(x);
        const start = Math.round(0.02 * to); // past the filter's start-up transient
        const fit = fitTones(y, start, y.length, to, [f]);
        const tone = fit.tones[0]!;
        const gainDb = db(tone.amplitude / amplitude);
        assert.ok(Math.abs(gainDb) <= 0.1, `${f} Hz: gain ${gainDb.toFixed(4)} dB`);
        // Residual = images (upsampling), leakage and PCM16 rounding: all must be ≥ 70 dB down.
        const snr = db(fit.signalRms / fit.residualRms);
        assert.ok(snr >= 70, `${f} Hz: SNR ${snr.toFixed(1)} dB`);
        // Linear phase: every tone is delayed by the same, declared amount (group delay = phase delay).
        const delay = toneDelaySeconds(f, inputPhase, tone.phase, start / to, r.delaySamples / to) * to;
        assert.ok(Math.abs(delay - r.delaySamples) < 0.02, `${f} Hz: delay ${delay.toFixed(4)} samples`);
      }
    });

    if (to > from) {
      test('leaves every image of a passband tone ≥ 70 dB below the tone', () => {
        for (const f of passbandTones(edge)) {
          const x = synthesizePcm16(from / 2, from, [{ frequency: f, amplitude: 30000, phase: 0 }]);
          const y = resampleAll(from, to, x);
          const images = imagesOf(f, from, to);
          assert.ok(images.length > 0);
          const fit = fitTones(y, Math.round(0.02 * to), y.length, to, [f, ...images]);
          const tone = fit.tones[0]!.amplitude;
          for (const image of fit.tones.slice(1)) {
            const level = db(image.amplitude / tone);
            assert.ok(level <= -70, `${f} Hz: image at ${image.frequency} Hz is ${level.toFixed(1)} dB`);
          }
        }
      });
    } else {
      test(`removes input tones from ${stopEdgeOf(from, to)} Hz to ${from / 2} Hz by ≥ 70 dB (no alias in the passband)`, () => {
        const stop = stopEdgeOf(from, to);
        const tones = [stop, stop + 411, (stop + from / 2) / 2 + 7, from / 2 - 103];
        for (const f of tones) {
          const x = synthesizePcm16(from / 2, from, [{ frequency: f, amplitude: 30000, phase: 0.5 }]);
          const y = resampleAll(from, to, x);
          const rejection = db(rms(y, Math.round(0.02 * to)) / rms(x));
          assert.ok(rejection <= -70, `${f} Hz (alias at ${fold(f, to)} Hz): ${rejection.toFixed(1)} dB`);
        }
      });
    }

    test('output does not depend on chunking (whole vs 20 ms frames vs random pieces)', () => {
      const x = synthesizePcm16(from, from, [
        { frequency: 313, amplitude: 9000, phase: 0 },
        { frequency: 2111, amplitude: 9000, phase: 1 },
        { frequency: from / 2 - 211, amplitude: 9000, phase: 2 },
      ]);
      const whole = resampleAll(from, to, x);
      const frame = from / 50;
      const cuts = Array.from({ length: x.length / frame }, (_, i) => (i + 1) * frame);
      assert.deepEqual(resampleInPieces(from, to, x, cuts), whole);

      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 0, maxLength: 1500, size: 'max' }),
          fc.array(fc.nat({ max: 1500 }), { maxLength: 12, size: 'max' }),
          (samples, rawCuts) => {
            const input = Int16Array.from(samples);
            const sorted = rawCuts.map((c) => c % (input.length + 1)).sort((a, b) => a - b);
            assert.deepEqual(resampleInPieces(from, to, input, sorted), resampleAll(from, to, input));
          },
        ),
        { numRuns: 60 },
      );
    });

    test('has produced ceil(T·to/from) samples after T input samples, whatever the pieces', () => {
      const r = new StreamingResampler(from, to);
      let fed = 0;
      let produced = 0;
      for (const size of [1, 2, 3, 7, 160, 0, 1, 479, 5]) {
        produced += r.process(new Int16Array(size)).length;
        fed += size;
        assert.equal(produced, Math.ceil((fed * to) / from));
      }
    });
  });
}

describe('StreamingResampler buffers and limits', () => {
  test('returns the same view for same-size chunks and grows only for a larger chunk', () => {
    const r = new StreamingResampler(16000, 24000);
    const a = r.process(new Int16Array(320));
    const b = r.process(new Int16Array(320));
    assert.equal(a, b);
    assert.equal(a.length, 480);
    const bigger = r.process(new Int16Array(640));
    assert.equal(bigger.length, 960);
    const smaller = r.process(new Int16Array(320));
    assert.equal(smaller.buffer, bigger.buffer, 'the grown buffer is kept, not shrunk');
  });

  test('reset() forgets history: the next output equals a fresh stream', () => {
    const noise = Int16Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 20011) - 10000);
    const x = synthesizePcm16(480, 24000, [{ frequency: 997, amplitude: 12000, phase: 0 }]);
    const r = new StreamingResampler(24000, 8000);
    r.process(noise.subarray(0, 333));
    r.reset();
    assert.deepEqual(r.process(x).slice(), resampleAll(24000, 8000, x));
  });

  test('rejects a chunk above maxInputMs with VW_ERR_RESAMPLE_TOO_LARGE and accepts one at the cap', () => {
    const r = new StreamingResampler(8000, 24000, { maxInputMs: 100 });
    assert.equal(r.maxInputSamples, 800);
    assert.equal(r.process(new Int16Array(800)).length, 2400);
    assert.throws(
      () => r.process(new Int16Array(801)),
      (err: unknown) => isVoicewireError(err, 'VW_ERR_RESAMPLE_TOO_LARGE'),
    );
  });

  test('saturates at the Int16 limits instead of wrapping', () => {
    // A full-scale square wave overshoots (Gibbs) by ~9 % after band-limiting.
    const square = (level: number): Int16Array => Int16Array.from({ length: 800 }, (_, i) => (i % 40 < 20 ? level : -level));
    const loud = resampleAll(8000, 24000, square(32000));
    const half = resampleAll(8000, 24000, square(16000));
    let clipped = 0;
    for (let i = 0; i < loud.length; i++) {
      const expected = Math.max(-32768, Math.min(32767, 2 * half[i]!));
      assert.ok(Math.abs(loud[i]! - expected) <= 2, `sample ${i}: ${loud[i]} vs ${expected}`);
      if (Math.abs(2 * half[i]!) > 32767) clipped++;
    }
    assert.ok(clipped > 0, 'the test signal does reach the limits');
  });

  test('rejects unsupported rates and a non-positive cap with VW_ERR_CONFIG', () => {
    const isConfig = (err: unknown): boolean => isVoicewireError(err, 'VW_ERR_CONFIG');
    assert.throws(() => new StreamingResampler(44100 as SampleRate, 8000), isConfig);
    assert.throws(() => new StreamingResampler(8000, 24000, { maxInputMs: 0 }), isConfig);
    assert.throws(() => new StreamingResampler(8000, 24000, { maxInputMs: Number.NaN }), isConfig);
  });

  test('equal rates copy the samples through with no delay', () => {
    const r = new StreamingResampler(16000, 16000);
    const x = Int16Array.from([1, -2, 3, 32767, -32768]);
    assert.equal(r.delaySamples, 0);
    assert.deepEqual(r.process(x).slice(), x);
  });

  test('streams of one direction share a single coefficient table; each keeps < 128 samples of history', () => {
    for (const [from, to] of DIRECTIONS) {
      const table = polyphaseTable(from, to)!;
      assert.equal(polyphaseTable(from, to), table);
      assert.ok(table.branchTaps - 1 < 128, `${from} → ${to}: ${table.branchTaps - 1} samples of history`);
      assert.equal(table.delaySamples, new StreamingResampler(from, to).delaySamples);
    }
  });
});
