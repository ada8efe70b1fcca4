import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FRAME_HEADER_BYTES,
  decodeFrame,
  encodeFrame,
  int16ToPcm,
  pcmDurationMs,
  pcmToInt16,
  type FrameErrorReason,
  type FrameExpectations,
  type WireFrame,
} from '../../../src/transports/browser/frames.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const frame: fc.Arbitrary<WireFrame> = fc.record({
  kind: fc.constantFrom('audio' as const, 'mic' as const),
  sampleRate: fc.constantFrom(16000 as const, 24000 as const),
  epoch: u32,
  seq: u32,
  sentenceId: u32,
  pcm: fc.integer({ min: 1, max: 400 }).chain((n) => fc.uint8Array({ minLength: n * 2, maxLength: n * 2 })),
});

function plain(f: WireFrame): Record<string, unknown> {
  return { ...f, pcm: Array.from(f.pcm) };
}

/** A valid 20 ms mic frame at 16 kHz whose bytes a test then breaks. */
function micFrame(samples = 320): Uint8Array {
  return encodeFrame({ kind: 'mic', sampleRate: 16000, epoch: 0, seq: 0, sentenceId: 0, pcm: new Uint8Array(samples * 2) });
}

function withByte(bytes: Uint8Array, index: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = value;
  return copy;
}

describe('browser codec: binary frames', () => {
  test('encode/decode round-trips every frame, with a 16-byte little-endian header', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const bytes = encodeFrame(f);
        assert.equal(bytes.length, FRAME_HEADER_BYTES + f.pcm.length);
        const result = decodeFrame(bytes);
        assert.ok(result.ok);
        assert.deepEqual(plain(result.frame), plain(f));
      }),
    );
  });

  test('the header layout is the documented one', () => {
    const bytes = encodeFrame({ kind: 'audio', sampleRate: 24000, epoch: 0x01020304, seq: 5, sentenceId: 0xa0b0c0d0, pcm: new Uint8Array([0x34, 0x12]) });
    assert.deepEqual(Array.from(bytes), [0xa1, 1, 2, 0, 4, 3, 2, 1, 5, 0, 0, 0, 0xd0, 0xc0, 0xb0, 0xa0, 0x34, 0x12]);
  });

  test('decoding a frame at any byte offset gives the same frame (views, not copies)', () => {
    fc.assert(
      fc.property(frame, fc.integer({ min: 0, max: 7 }), (f, offset) => {
        const bytes = encodeFrame(f);
        const host = new Uint8Array(bytes.length + offset);
        host.set(bytes, offset);
        const result = decodeFrame(host.subarray(offset));
        assert.ok(result.ok);
        assert.deepEqual(plain(result.frame), plain(f));
        assert.deepEqual(Array.from(pcmToInt16(result.frame.pcm)), Array.from(pcmToInt16(f.pcm)));
      }),
    );
  });

  test('PCM16 conversion round-trips samples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 300 }), (values) => {
        const samples = Int16Array.from(values);
        assert.deepEqual(Array.from(pcmToInt16(int16ToPcm(samples))), values);
      }),
    );
    assert.deepEqual(Array.from(int16ToPcm(Int16Array.of(0x1234, -2))), [0x34, 0x12, 0xfe, 0xff]);
  });

  test('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodeFrame(bytes);
        decodeFrame(bytes, { kind: 'mic', sampleRate: 16000, maxMs: 100 });
      }),
      { numRuns: 1000 },
    );
  });

  test('changing any header byte of a valid frame yields that frame or a specific reason', () => {
    const reasons = new Set<FrameErrorReason>(['magic', 'version', 'kind', 'direction', 'reserved', 'format', 'rate-mismatch']);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), (index, value) => {
        const result = decodeFrame(withByte(micFrame(), index, value), { kind: 'mic', sampleRate: 16000, maxMs: 100 });
        if (!result.ok) assert.ok(reasons.has(result.reason), result.reason);
      }),
    );
  });

  const expect: FrameExpectations = { kind: 'mic', sampleRate: 16000, maxMs: 100 };
  const cases: Array<[string, Uint8Array, FrameErrorReason]> = [
    ['shorter than the header', new Uint8Array(15), 'too-short'],
    ['a bad magic nibble', withByte(micFrame(), 0, 0x51), 'magic'],
    ['another version', withByte(micFrame(), 0, 0xa2), 'version'],
    ['an unknown kind', withByte(micFrame(), 1, 9), 'kind'],
    ['the other direction', withByte(micFrame(), 1, 1), 'direction'],
    ['an unknown format', withByte(micFrame(), 2, 7), 'format'],
    ['a non-zero reserved byte', withByte(micFrame(), 3, 1), 'reserved'],
    ['another rate than negotiated', withByte(micFrame(), 2, 2), 'rate-mismatch'],
    ['an odd payload', micFrame().subarray(0, FRAME_HEADER_BYTES + 3), 'odd-length'],
    ['no samples', micFrame().subarray(0, FRAME_HEADER_BYTES), 'empty'],
    ['over 100 ms', micFrame(1601), 'too-long'],
  ];
  for (const [name, bytes, reason] of cases) {
    test(`a frame with ${name} is VW_ERR_BAD_FRAME (${reason})`, () => {
      const result = decodeFrame(bytes, expect);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.code, 'VW_ERR_BAD_FRAME');
      assert.equal(result.reason, reason);
      assert.match(result.error.message, new RegExp(reason));
    });
  }

  test('exactly 100 ms of mic audio is accepted', () => {
    assert.ok(decodeFrame(micFrame(1600), expect).ok);
    assert.equal(pcmDurationMs(3200, 16000), 100);
  });

  test('encoding refuses fields that are not u32 and odd payloads', () => {
    const base: WireFrame = { kind: 'audio', sampleRate: 24000, epoch: 0, seq: 0, sentenceId: 0, pcm: new Uint8Array(2) };
    assert.throws(() => encodeFrame({ ...base, epoch: -1 }), RangeError);
    assert.throws(() => encodeFrame({ ...base, seq: 2 ** 32 }), RangeError);
    assert.throws(() => encodeFrame({ ...base, sentenceId: 1.5 }), RangeError);
    assert.throws(() => encodeFrame({ ...base, pcm: new Uint8Array(3) }), RangeError);
  });
});
