// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import alawmulaw from 'alawmulaw';
import { decodeMulaw, encodeMulaw, mulawDecodeSample, mulawEncodeSample, MULAW_SILENCE } from '../../src/audio/mulaw.js';
import { isVoicewireError } from '../../src/errors.js';

// alawmulaw ships a UMD bundle as CommonJS, so Node's ESM loader only exposes its default export.
const { mulaw } = alawmulaw;

/** G.711 μ-law expansion as usually written (complement, bias 0x84 = 132, shift by the exponent). */
function g711Expand(code: number): number {
  const c = ~code & 0xff;
  const t = (((c & 0x0f) << 3) + 0x84) << ((c & 0x70) >> 4);
  return c & 0x80 ? 0x84 - t : t - 0x84;
}

/**
 * A line-by-line port of ITU-T G.191 `g711.c` `ulaw_compress` for one 16-bit sample: an oracle
 * written independently of the table-driven encoder under test.
 */
function g191Compress(sample: number): number {
  let absno = sample < 0 ? (~sample >> 2) + 33 : (sample >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const highNibble = 0x0008 - segno;
  let lowNibble = (absno >> segno) & 0x000f;
  lowNibble = 0x000f - lowNibble;
  let code = (highNibble << 4) | lowNibble;
  if (sample >= 0) code |= 0x0080;
  return code;
}

/** Quantisation step (in 16-bit units) of the segment `code` belongs to. */
function stepOf(code: number): number {
  return 8 << (((~code & 0xff) >> 4) & 0x07);
}

/**
 * The documented difference with alawmulaw (whose encoder is the "Sun" linear2ulaw): it forms the
 * magnitude of a negative sample as −x, G.191 as ~x = −x − 1. Both compare |x| + 132 (alawmulaw) or
 * 4·⌊(|x| − 1)/4⌋ + 132 (G.191) against the same decision thresholds T = 2^(e+7) + j·2^(e+3)
 * (segment e = 0..7, interval j = 0..15). They disagree exactly when −x lands ON a threshold:
 * |x| + 132 = T, for the thresholds reachable by a negative non-zero 16-bit input before the
 * encoder's clip (133 ≤ T ≤ 32635). There G.191 still sees the interval below and returns the code
 * one step closer to zero (code + 1 on the negative side).
 */
function documentedDifferences(): number[] {
  const inputs: number[] = [];
  for (let e = 0; e < 8; e++) {
    for (let j = 0; j < 16; j++) {
      const threshold = (1 << (e + 7)) + j * (1 << (e + 3));
      if (threshold >= 133 && threshold <= 32635) inputs.push(-(threshold - 132));
    }
  }
  return inputs.sort((a, b) => a - b);
}

describe('μ-law decoding', () => {
  test('equals the G.711 expansion formula on all 256 codes', () => {
    for (let code = 0; code < 256; code++) assert.equal(mulawDecodeSample(code), g711Expand(code), `code ${code}`);
  });

  test('equals alawmulaw.mulaw.decodeSample on all 256 codes', () => {
    // `+ 0` turns alawmulaw's −0 (code 0x7f) into 0, which is what an Int16Array stores.
    for (let code = 0; code < 256; code++) assert.equal(mulawDecodeSample(code), mulaw.decodeSample(code) + 0, `code ${code}`);
  });

  test('decodeMulaw writes the table values into the caller buffer and returns the count', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Int16Array(300).fill(7);
    assert.equal(decodeMulaw(codes, out), 256);
    for (let code = 0; code < 256; code++) assert.equal(out[code], mulawDecodeSample(code));
    assert.ok(out.subarray(256).every((v) => v === 7), 'nothing is written past the input length');
  });

  test('decodeMulaw refuses an output shorter than the input with VW_ERR_BUFFER_TOO_SMALL', () => {
    assert.throws(
      () => decodeMulaw(new Uint8Array(160), new Int16Array(159)),
      (err: unknown) => isVoicewireError(err, 'VW_ERR_BUFFER_TOO_SMALL'),
    );
  });
});

describe('μ-law encoding', () => {
  test('is bit-exact with a port of G.191 ulaw_compress on all 65 536 Int16 inputs', () => {
    for (let x = -32768; x <= 32767; x++) assert.equal(mulawEncodeSample(x), g191Compress(x), `sample ${x}`);
  });

  test('differs from alawmulaw only on the 127 documented negative threshold inputs, by one step toward zero', () => {
    const differing: number[] = [];
    for (let x = -32768; x <= 32767; x++) {
      const ours = mulawEncodeSample(x);
      const theirs = mulaw.encodeSample(x) & 0xff;
      if (ours === theirs) continue;
      differing.push(x);
      assert.equal(ours, theirs + 1, `sample ${x}: one code closer to zero`);
      // Adjacent reconstruction levels: one step apart inside a segment, ¾ of the upper step
      // across a segment boundary (the mean of the two segments' steps).
      const levelGap = (stepOf(ours) + stepOf(theirs)) / 2;
      assert.equal(mulawDecodeSample(ours) - mulawDecodeSample(theirs), levelGap, `sample ${x}: one level apart`);
      // The characterisation: |x| + 132 sits exactly on a decision threshold of alawmulaw's segment.
      assert.equal((-x + 132) % stepOf(theirs), 0, `sample ${x}: |x| + 132 is on a threshold`);
    }
    const expected = documentedDifferences();
    assert.equal(expected.length, 127);
    assert.deepEqual(differing, expected);
    assert.equal(differing[0], -31612);
    assert.equal(differing.at(-1), -4);
  });

  test('agrees with alawmulaw on every non-negative input', () => {
    for (let x = 0; x <= 32767; x++) assert.equal(mulawEncodeSample(x), mulaw.encodeSample(x) & 0xff, `sample ${x}`);
  });

  test('re-encodes every decoded value to the same code (0x7f, "negative zero", becomes 0xff)', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(mulawEncodeSample(mulawDecodeSample(code)), code === 0x7f ? 0xff : code, `code ${code}`);
    }
    assert.equal(mulawEncodeSample(0), MULAW_SILENCE);
  });

  test('quantisation error never exceeds half a step inside the coder range', () => {
    for (let x = -32768; x <= 32767; x++) {
      const code = mulawEncodeSample(x);
      const error = Math.abs(mulawDecodeSample(code) - x);
      const clipped = Math.max(0, Math.abs(x) - 32124); // 32124 = largest decoded magnitude
      assert.ok(error <= stepOf(code) / 2 + clipped, `sample ${x}: error ${error}`);
    }
  });

  test('clamps out-of-range scalar inputs instead of wrapping', () => {
    assert.equal(mulawEncodeSample(40000), mulawEncodeSample(32767));
    assert.equal(mulawEncodeSample(-40000), mulawEncodeSample(-32768));
    assert.equal(mulawEncodeSample(32767), 0x80);
    assert.equal(mulawEncodeSample(-32768), 0x00);
  });

  test('encodeMulaw equals the per-sample encoder for any buffer and returns the count', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 2000 }), (samples) => {
        const input = Int16Array.from(samples);
        const out = new Uint8Array(input.length + 3).fill(0x55);
        assert.equal(encodeMulaw(input, out), input.length);
        for (let i = 0; i < input.length; i++) assert.equal(out[i], mulawEncodeSample(input[i]!));
        assert.deepEqual([...out.subarray(input.length)], [0x55, 0x55, 0x55]);
      }),
    );
  });

  test('encodeMulaw refuses an output shorter than the input with VW_ERR_BUFFER_TOO_SMALL', () => {
    assert.throws(
      () => encodeMulaw(new Int16Array(160), new Uint8Array(100)),
      (err: unknown) => isVoicewireError(err, 'VW_ERR_BUFFER_TOO_SMALL'),
    );
  });

  test('a 20 ms frame round trip through caller-owned buffers reuses those buffers', () => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    const codes = new Uint8Array(160);
    const back = new Int16Array(160);
    for (let frame = 0; frame < 3; frame++) {
      assert.equal(encodeMulaw(pcm, codes), 160);
      assert.equal(decodeMulaw(codes, back), 160);
    }
    for (let i = 0; i < 160; i++) assert.ok(Math.abs(back[i]! - pcm[i]!) <= stepOf(codes[i]!) / 2);
  });
});
