import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import alawmulaw from 'alawmulaw';
import { QUIET_MULAW_MAX, isQuietMulaw } from '../../../src/models/shared/quiet-frame.js';

/** The G.711 decode of one μ-law byte, by an independent implementation (alawmulaw). */
const decoded = (byte: number): number => alawmulaw.mulaw.decode(new Uint8Array([byte]))[0]!;

describe('isQuietMulaw', () => {
  test('the threshold is exact: every byte is quiet iff its sample is within ±QUIET_MULAW_MAX', () => {
    for (let byte = 0; byte < 256; byte++) {
      assert.equal(isQuietMulaw(new Uint8Array([byte])), Math.abs(decoded(byte)) <= QUIET_MULAW_MAX, `byte 0x${byte.toString(16)} → ${decoded(byte)}`);
    }
  });

  test('μ-law silence (0xFF and 0x7F) is quiet; an empty frame is quiet; a 440 Hz tone at −12 dBFS is not', () => {
    assert.equal(isQuietMulaw(new Uint8Array(160).fill(0xff)), true);
    assert.equal(isQuietMulaw(new Uint8Array(160).fill(0x7f)), true);
    assert.equal(isQuietMulaw(new Uint8Array(0)), true);
    const tone = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    assert.equal(isQuietMulaw(alawmulaw.mulaw.encode(tone)), false);
  });

  test('property: a frame is quiet iff its loudest decoded sample is within ±QUIET_MULAW_MAX', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const loudest = Math.max(0, ...Array.from(alawmulaw.mulaw.decode(bytes), Math.abs));
        assert.equal(isQuietMulaw(bytes), loudest <= QUIET_MULAW_MAX);
      }),
      { numRuns: 500 },
    );
  });

  test('property: a quiet frame of any length with one loud byte anywhere is not quiet, and without it is', () => {
    const quietByte = fc.integer({ min: 0, max: 255 }).filter((b) => Math.abs(decoded(b)) <= QUIET_MULAW_MAX);
    const loudByte = fc.integer({ min: 0, max: 255 }).filter((b) => Math.abs(decoded(b)) > QUIET_MULAW_MAX);
    fc.assert(
      fc.property(fc.array(quietByte, { minLength: 1, maxLength: 40 }), fc.nat(), loudByte, (quiet, at, loud) => {
        const frame = Uint8Array.from(quiet);
        assert.equal(isQuietMulaw(frame), true);
        frame[at % frame.length] = loud;
        assert.equal(isQuietMulaw(frame), false);
      }),
      { numRuns: 1000 },
    );
  });
});
