// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PCM16_24K, PCM16_8K, TWILIO_FORMAT } from '../../../src/audio/format.js';
import { FormatConverter } from '../../../src/models/shared/convert.js';

function pcmBytes(samples: number[]): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  samples.forEach((s, i) => view.setInt16(i * 2, s, true));
  return out;
}

/** Feeds `input` in pieces cut at `cuts` and concatenates copies of the outputs. */
function convertInPieces(converter: FormatConverter, input: Uint8Array, cuts: number[]): Uint8Array {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const outputs: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, input.length]) {
    outputs.push(converter.convert(input.subarray(start, point)).slice());
    start = point;
  }
  return Buffer.concat(outputs);
}

describe('FormatConverter', () => {
  test('the same format is a passthrough returning the very same bytes', () => {
    const converter = new FormatConverter(TWILIO_FORMAT, TWILIO_FORMAT);
    const bytes = new Uint8Array([1, 2, 3]);
    assert.equal(converter.passthrough, true);
    assert.equal(converter.convert(bytes), bytes);
  });

  test('μ-law 8 kHz → PCM16 24 kHz triples the sample count over a stream', () => {
    const converter = new FormatConverter(TWILIO_FORMAT, PCM16_24K);
    let total = 0;
    for (let i = 0; i < 50; i++) total += converter.convert(new Uint8Array(160).fill(0xff)).length;
    // 50 frames of 160 samples → 24 000 output samples (48 000 bytes), less the resampler's delay.
    assert.ok(Math.abs(total - 48_000) <= 2 * 200, `got ${total} bytes`);
  });

  test('PCM16 24 kHz → μ-law 8 kHz gives a third of the samples, one byte each', () => {
    const converter = new FormatConverter(PCM16_24K, TWILIO_FORMAT);
    let total = 0;
    for (let i = 0; i < 50; i++) total += converter.convert(new Uint8Array(960)).length;
    assert.ok(Math.abs(total - 8000) <= 100, `got ${total} bytes`);
  });

  test('μ-law silence decodes to PCM silence', () => {
    const converter = new FormatConverter(TWILIO_FORMAT, PCM16_8K);
    const out = converter.convert(new Uint8Array(16).fill(0xff));
    assert.deepEqual(out, new Uint8Array(32));
  });

  test('property: PCM16 → μ-law is the same whole or split at any byte (odd splits carry a byte)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (samples, cuts) => {
        const input = pcmBytes(samples);
        const whole = new FormatConverter(PCM16_8K, TWILIO_FORMAT).convert(input).slice();
        const pieces = convertInPieces(new FormatConverter(PCM16_8K, TWILIO_FORMAT), input, cuts);
        assert.deepEqual(new Uint8Array(pieces), whole);
      }),
    );
  });

  test('PCM16 at an odd byte offset is read correctly', () => {
    const backing = new Uint8Array(1 + 8);
    backing.set(pcmBytes([1000, -1000, 32767, -32768]), 1);
    const odd = new FormatConverter(PCM16_8K, TWILIO_FORMAT).convert(backing.subarray(1)).slice();
    const aligned = new FormatConverter(PCM16_8K, TWILIO_FORMAT).convert(pcmBytes([1000, -1000, 32767, -32768])).slice();
    assert.deepEqual(odd, aligned);
  });
});
