import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LocalSpeechDetector } from '../../src/session/local-speech.js';
import { PCM16_16K, TWILIO_FORMAT, type AudioFormat } from '../../src/audio/format.js';
import { encodeMulaw, MULAW_SILENCE } from '../../src/audio/mulaw.js';

/** 500 ms of line silence, then a 440 Hz tone at −12 dBFS: the caller starts speaking at 500 ms. */
function callerStream(format: AudioFormat): Uint8Array {
  const rate = format.sampleRate;
  const silence = (rate * 500) / 1000;
  const samples = new Int16Array(silence + (rate * 300) / 1000);
  for (let i = silence; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  if (format.encoding === 'pcm16') return new Uint8Array(samples.buffer);
  const bytes = new Uint8Array(samples.length).fill(MULAW_SILENCE);
  encodeMulaw(samples, bytes);
  return bytes;
}

/** [start, end) byte ranges of the chunks `hears` said true for. */
function firing(format: AudioFormat, stream: Uint8Array, cuts: readonly number[], minSpeechMs = 40): Array<[number, number]> {
  const detector = new LocalSpeechDetector(format, minSpeechMs);
  const fired: Array<[number, number]> = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    const end = Math.min(stream.length, Math.max(start, cut));
    if (detector.hears(stream.subarray(start, end))) fired.push([start, end]);
    start = end;
  }
  return fired;
}

describe('LocalSpeechDetector', () => {
  for (const format of [TWILIO_FORMAT, PCM16_16K]) {
    const stream = callerStream(format);
    const bytesPerMs = (format.sampleRate / 1000) * (format.encoding === 'pcm16' ? 2 : 1);
    const speechAt = 500 * bytesPerMs;

    test(`${format.encoding}/${format.sampleRate}: speech starts once, after 40 ms of it (four 10 ms VAD frames)`, () => {
      const frames = Array.from({ length: stream.length / (20 * bytesPerMs) }, (_, i) => (i + 1) * 20 * bytesPerMs);
      assert.deepEqual(firing(format, stream, frames), [[speechAt + 20 * bytesPerMs, speechAt + 40 * bytesPerMs]]);
      assert.deepEqual(firing(format, stream, frames, 100), [[speechAt + 80 * bytesPerMs, speechAt + 100 * bytesPerMs]]);
    });

    test(`${format.encoding}/${format.sampleRate}: any chunking (odd byte counts too) fires in the chunk holding the same byte`, () => {
      const perByte = firing(format, stream, Array.from({ length: stream.length }, (_, i) => i + 1));
      assert.equal(perByte.length, 1);
      const firingByte = perByte[0]![1];
      assert.equal(firingByte, speechAt + 40 * bytesPerMs);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 2 * 1024 }), { minLength: 1, maxLength: 60 }), (lengths) => {
          const cuts: number[] = [];
          let at = 0;
          for (const length of lengths) cuts.push((at += length));
          const fired = firing(format, stream, cuts);
          assert.equal(fired.length, 1);
          const [start, end] = fired[0]!;
          assert.ok(start < firingByte && firingByte <= end, `fired in [${start}, ${end}), the speech start completes at byte ${firingByte}`);
        }),
        { numRuns: 150 },
      );
    });
  }
});
