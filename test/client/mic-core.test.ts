import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MicFramer } from '../../client/src/mic-core.js';

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
}

function feed(framer: MicFramer, input: Float32Array, chunk: number): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let i = 0; i < input.length; i += chunk) frames.push(...framer.process(input.subarray(i, i + chunk)));
  return frames;
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}

/** Peak absolute sample value after the first `skip` samples (filter settling). */
function peak(samples: Int16Array, skip: number): number {
  let max = 0;
  for (let i = skip; i < samples.length; i++) max = Math.max(max, Math.abs(samples[i]!));
  return max / 32768;
}

describe('MicFramer', () => {
  test('frames are exactly frameMs long at the wire rate', () => {
    const framer = new MicFramer({ inRate: 16000, outRate: 16000, frameMs: 20 });
    const frames = feed(framer, sine(440, 16000, 0.1), 128);
    assert.equal(frames.length, 5);
    for (const f of frames) assert.equal(f.length, 320);
  });

  test('at equal rates samples pass through, converted to PCM16 with clamping', () => {
    const framer = new MicFramer({ inRate: 16000, outRate: 16000, frameMs: 1 });
    const [frame] = framer.process(Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2, 0.25, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(Array.from(frame!.subarray(0, 8)), [0, 16384, -16384, 32767, -32768, 32767, -32768, 8192]);
  });

  test('48 kHz → 16 kHz keeps a 1 kHz tone and the right number of samples', () => {
    const framer = new MicFramer({ inRate: 48000, outRate: 16000 });
    const out = concat(feed(framer, sine(1000, 48000, 1), 128));
    assert.ok(Math.abs(out.length - 16000) <= 320, `${out.length} samples`);
    const level = peak(out, 800);
    assert.ok(level > 0.45 && level < 0.55, `1 kHz level ${level}`);
  });

  test('48 kHz → 16 kHz attenuates a 12 kHz tone that would alias (at least 18 dB)', () => {
    const framer = new MicFramer({ inRate: 48000, outRate: 16000 });
    const level = peak(concat(feed(framer, sine(12000, 48000, 0.5), 128)), 800);
    assert.ok(level < 0.5 / 8, `12 kHz level ${level}`);
  });

  test('44.1 kHz → 24 kHz gives the right number of samples', () => {
    const framer = new MicFramer({ inRate: 44100, outRate: 24000 });
    const out = concat(feed(framer, sine(300, 44100, 1), 128));
    assert.ok(Math.abs(out.length - 24000) <= 480, `${out.length} samples`);
  });

  test('the output does not depend on how the input is chunked', () => {
    fc.assert(
      fc.property(
        fc.constantFrom([48000, 16000], [44100, 16000], [48000, 24000], [16000, 24000], [16000, 16000]),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        ([inRate, outRate], chunks) => {
          const input = sine(700, inRate, 0.2, 0.8);
          const whole = concat(feed(new MicFramer({ inRate: inRate, outRate: outRate }), input, input.length));
          const framer = new MicFramer({ inRate: inRate, outRate: outRate });
          const pieces: Int16Array[] = [];
          let offset = 0;
          for (let i = 0; offset < input.length; i++) {
            const size = chunks[i % chunks.length]!;
            pieces.push(...framer.process(input.subarray(offset, offset + size)));
            offset += size;
          }
          assert.deepEqual(Array.from(concat(pieces)), Array.from(whole));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('rates must be positive integers', () => {
    assert.throws(() => new MicFramer({ inRate: 0, outRate: 16000 }), RangeError);
    assert.throws(() => new MicFramer({ inRate: 48000, outRate: 1.5 }), RangeError);
  });
});
