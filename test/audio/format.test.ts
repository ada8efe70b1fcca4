// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FRAME_MS,
  PCM16_16K,
  PCM16_24K,
  PCM16_8K,
  TWILIO_FORMAT,
  bytesPerMs,
  bytesPerSample,
  bytesToMs,
  formatName,
  frameBytes,
  isSameFormat,
  msToBytes,
  msToSamples,
  samplesToMs,
  type AudioFormat,
} from '../../src/audio/format.js';

const FORMATS: readonly AudioFormat[] = [TWILIO_FORMAT, PCM16_8K, PCM16_16K, PCM16_24K];

describe('audio format maths', () => {
  test('μ-law is 1 byte per sample, PCM16 is 2', () => {
    assert.equal(bytesPerSample(TWILIO_FORMAT), 1);
    assert.equal(bytesPerSample(PCM16_24K), 2);
  });

  test('bytes per ms: μ-law 8 k = 8, PCM16 8/16/24 k = 16/32/48', () => {
    assert.deepEqual(FORMATS.map(bytesPerMs), [8, 16, 32, 48]);
  });

  test('a standard 20 ms frame is 160 bytes of Twilio μ-law and 960 bytes of PCM16 24 k', () => {
    assert.equal(FRAME_MS, 20);
    assert.equal(frameBytes(TWILIO_FORMAT), 160);
    assert.equal(frameBytes(PCM16_24K), 960);
    assert.equal(frameBytes(PCM16_16K, 10), 320);
  });

  test('ms ⇄ bytes round trips for whole milliseconds in every format', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), fc.integer({ min: 0, max: 3_600_000 }), (format, ms) => {
        assert.equal(bytesToMs(format, msToBytes(format, ms)), ms);
      }),
    );
  });

  test('msToBytes rounds fractional durations to whole bytes', () => {
    assert.equal(msToBytes(TWILIO_FORMAT, 0.1), 1);
    assert.equal(msToBytes(TWILIO_FORMAT, 0.06), 0);
    assert.equal(bytesToMs(TWILIO_FORMAT, 4), 0.5);
  });

  test('samples ⇄ ms at each rate', () => {
    assert.equal(samplesToMs(8000, 160), 20);
    assert.equal(samplesToMs(24000, 480), 20);
    assert.equal(msToSamples(16000, 20), 320);
    assert.equal(msToSamples(24000, 2.5), 60);
    fc.assert(
      fc.property(fc.constantFrom(8000, 16000, 24000), fc.integer({ min: 0, max: 1_000_000 }), (rate, ms) => {
        assert.equal(samplesToMs(rate, msToSamples(rate, ms)), ms);
      }),
    );
  });

  test('formats compare by encoding and rate, and print as encoding/rate', () => {
    assert.ok(isSameFormat(PCM16_8K, { encoding: 'pcm16', sampleRate: 8000 }));
    assert.ok(!isSameFormat(PCM16_8K, TWILIO_FORMAT));
    assert.ok(!isSameFormat(PCM16_8K, PCM16_16K));
    assert.equal(formatName(TWILIO_FORMAT), 'pcmu/8000');
    assert.equal(formatName(PCM16_24K), 'pcm16/24000');
  });
});
