/** TTS PCM → whole 20 ms frames in the caller's format, independent of how the input is chunked. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PCM16_16K, PCM16_24K, TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import { Framer } from '../../../src/models/cascade/framer.js';

function tone(samples: number, rate: number): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round(5000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return out;
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

describe('Framer', () => {
  test('24 kHz PCM → 160-byte μ-law frames for Twilio, the last one padded with silence', () => {
    const framer = new Framer(24000, TWILIO_FORMAT);
    const frames = [...framer.push(tone(24000, 24000)), ...framer.flush()]; // 1 s
    assert.ok(frames.every((f) => f.length === 160));
    // 1 s of audio plus the resampler's tail, whole frames.
    assert.ok(frames.length >= 50 && frames.length <= 52, `${frames.length} frames`);
    assert.equal(frames.at(-1)!.at(-1), 0xff, 'μ-law silence pads the last frame');
  });

  test('same rate, PCM16: frames are the input bytes, little-endian', () => {
    const framer = new Framer(16000, PCM16_16K);
    const input = new Int16Array(320).map((_, i) => i - 160);
    const [frame] = framer.push(input);
    assert.equal(frame!.length, 640);
    assert.deepEqual(new Int16Array(frame!.buffer.slice(0)), input);
  });

  test('the output does not depend on how the input is chunked (property)', () => {
    const input = tone(7000, 24000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 10 }), (sizes) => {
        const whole = new Framer(24000, TWILIO_FORMAT);
        const expected = concat([...whole.push(input), ...whole.flush()]);
        const split = new Framer(24000, TWILIO_FORMAT);
        const frames: Uint8Array[] = [];
        let at = 0;
        for (const size of sizes) {
          frames.push(...split.push(input.subarray(at, Math.min(input.length, at + size))));
          at = Math.min(input.length, at + size);
        }
        frames.push(...split.push(input.subarray(at)), ...split.flush());
        assert.deepEqual(concat(frames), expected);
      }),
      { numRuns: 30 },
    );
  });

  test('a sample rate the resampler does not support is VW_ERR_CONFIG', () => {
    assert.throws(() => new Framer(22050, PCM16_24K), (err) => isVoicewireError(err, 'VW_ERR_CONFIG'));
  });
});
