// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base64DecodedLength, decodeBase64BytesInto, decodeBase64Into, decodeCheckedBase64Into, encodeBase64, isValidBase64 } from '../../src/audio/base64.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Characters Node's lenient decoder skips or maps (base64url), none valid in standard base64. */
const BAD_CHARS = ['-', '_', ' ', '\n', '\r', '\t', '*', '.', '!', '~', 'é', '\u0000', '€'];

describe('encodeBase64', () => {
  test('matches Buffer#toString("base64") for any bytes and any [start, end)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
          assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString('base64'));
          assert.equal(encodeBase64(bytes, start, end), Buffer.from(bytes.subarray(start, end)).toString('base64'));
        },
      ),
    );
  });

  test('encodes a view at a byte offset without reading outside it', () => {
    const backing = Uint8Array.from({ length: 32 }, (_, i) => i);
    const view = backing.subarray(5, 13);
    assert.equal(encodeBase64(view), Buffer.from([5, 6, 7, 8, 9, 10, 11, 12]).toString('base64'));
  });

  test('a 20 ms Twilio frame (160 bytes) is 216 characters ending in "=="', () => {
    const text = encodeBase64(new Uint8Array(160).fill(0xff));
    assert.equal(text.length, 216);
    assert.ok(text.endsWith('=='));
  });
});

describe('decodeBase64Into', () => {
  test('round trips any byte array through a caller-owned buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 8 }), (bytes, slack) => {
        const out = new Uint8Array(bytes.length + slack).fill(0xaa);
        const text = encodeBase64(bytes);
        assert.equal(base64DecodedLength(text), bytes.length);
        assert.equal(decodeBase64Into(text, out), bytes.length);
        assert.deepEqual(out.subarray(0, bytes.length), bytes);
        assert.ok(out.subarray(bytes.length).every((v) => v === 0xaa), 'nothing written past the decoded length');
      }),
    );
  });

  test('decodes into a view at a byte offset without touching the bytes around it', () => {
    const backing = new Uint8Array(20).fill(0xee);
    const view = backing.subarray(4, 12);
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(decodeBase64Into(encodeBase64(bytes), view), 8);
    assert.deepEqual([...backing.subarray(4, 12)], [...bytes]);
    assert.ok(backing.subarray(0, 4).every((v) => v === 0xee) && backing.subarray(12).every((v) => v === 0xee));
  });

  test('decoding frame after frame into the same buffer gives each frame', () => {
    const out = new Uint8Array(160);
    for (let frame = 0; frame < 5; frame++) {
      const bytes = Uint8Array.from({ length: 160 }, (_, i) => (i * 7 + frame * 13) & 0xff);
      assert.equal(decodeBase64Into(encodeBase64(bytes), out), 160);
      assert.deepEqual(out, bytes);
    }
  });

  test('decodes into a Buffer directly', () => {
    const out = Buffer.alloc(3);
    assert.equal(decodeBase64Into('AQID', out), 3);
    assert.deepEqual([...out], [1, 2, 3]);
  });

  test('the empty string decodes to 0 bytes', () => {
    assert.equal(decodeBase64Into('', new Uint8Array(0)), 0);
    assert.equal(base64DecodedLength(''), 0);
  });

  test('returns -1 when the decoded bytes do not fit, and writes nothing', () => {
    const out = new Uint8Array(2).fill(9);
    assert.equal(decodeBase64Into('AQID', out), -1);
    assert.deepEqual([...out], [9, 9]);
  });

  test('rejects a valid encoding with one character replaced by a non-alphabet character', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.constantFrom(...BAD_CHARS),
        (bytes, at, bad) => {
          const text = encodeBase64(bytes);
          const i = at % text.length;
          const corrupt = text.slice(0, i) + bad + text.slice(i + 1);
          const out = new Uint8Array(bytes.length + 4).fill(0x11);
          assert.equal(decodeBase64Into(corrupt, out), -1, JSON.stringify(corrupt));
          assert.equal(isValidBase64(corrupt), false);
          assert.ok(out.every((v) => v === 0x11), 'nothing written on rejection');
        },
      ),
    );
  });

  test('rejects "=" anywhere but the last two positions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3, maxLength: 300 }), fc.nat(), (bytes, at) => {
        const text = encodeBase64(bytes);
        const i = at % (text.length - 2); // never one of the last two characters
        const corrupt = text.slice(0, i) + '=' + text.slice(i + 1);
        assert.equal(decodeBase64Into(corrupt, new Uint8Array(bytes.length)), -1, corrupt);
      }),
    );
    assert.equal(decodeBase64Into('A===', new Uint8Array(3)), -1);
    assert.equal(decodeBase64Into('====', new Uint8Array(3)), -1);
    assert.equal(decodeBase64Into('AB=C', new Uint8Array(3)), -1);
  });

  test('rejects lengths that are not a multiple of 4 (unpadded or truncated input)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 3 }), (bytes, cut) => {
        const text = encodeBase64(bytes).slice(0, -cut);
        assert.equal(base64DecodedLength(text), -1);
        assert.equal(decodeBase64Into(text, new Uint8Array(bytes.length)), -1);
      }),
    );
  });

  test('rejects random strings that are not base64, accepts random alphabet strings that are', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (text) => {
        const valid = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text);
        const result = decodeBase64Into(text, new Uint8Array(64));
        assert.equal(result >= 0, valid, JSON.stringify(text));
        if (valid) assert.deepEqual(result, Buffer.from(text, 'base64').length);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }).map((a) => a.join('')), (body) => {
        const text = body.slice(0, body.length - (body.length % 4));
        assert.equal(decodeBase64Into(text, new Uint8Array(40)), (text.length / 4) * 3);
      }),
    );
  });
});

describe('base64DecodedLength', () => {
  test('counts 3 bytes per 4 characters minus the padding', () => {
    assert.equal(base64DecodedLength('AQID'), 3);
    assert.equal(base64DecodedLength('AQI='), 2);
    assert.equal(base64DecodedLength('AQ=='), 1);
    assert.equal(base64DecodedLength('A' + '='.repeat(3)), -1);
    assert.equal(base64DecodedLength('AQI'), -1);
  });
});

describe('views of one ArrayBuffer (the encoder and decoder share one Buffer per ArrayBuffer)', () => {
  test('property: encoding and decoding at any offsets of one ArrayBuffer, in any order, read and write only the view', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(255), bytes: fc.uint8Array({ maxLength: 64 }), decode: fc.boolean() }), { minLength: 1, maxLength: 20 }),
        (steps) => {
          const backing = new Uint8Array(320);
          const model = new Uint8Array(320);
          for (const { at, bytes, decode } of steps) {
            const view = backing.subarray(at, at + bytes.length);
            if (decode) {
              assert.equal(decodeBase64Into(Buffer.from(bytes).toString('base64'), view), bytes.length);
              model.set(bytes, at);
            } else {
              assert.equal(encodeBase64(view), Buffer.from(model.subarray(at, at + bytes.length)).toString('base64'));
            }
            assert.deepEqual(backing, model);
          }
        },
      ),
    );
  });
});

describe('decodeCheckedBase64Into', () => {
  test('property: decodes what decodeBase64Into decodes, into a view at an offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), (bytes, at) => {
        const text = Buffer.from(bytes).toString('base64');
        const out = new Uint8Array(at + 300).fill(7);
        const view = out.subarray(at);
        assert.equal(decodeCheckedBase64Into(text, view, base64DecodedLength(text)), bytes.length);
        assert.deepEqual(view.subarray(0, bytes.length), bytes);
        assert.ok(out.subarray(0, at).every((b) => b === 7), 'nothing written before the view');
      }),
    );
  });

  test('returns -1 for a negative length or one that does not fit, and writes nothing', () => {
    const out = new Uint8Array(2).fill(9);
    assert.equal(decodeCheckedBase64Into('AAAA', out, 3), -1);
    assert.equal(decodeCheckedBase64Into('AAA', out, -1), -1);
    assert.deepEqual(out, new Uint8Array(2).fill(9));
  });
});

describe('decodeBase64BytesInto', () => {
  /** The text's bytes inside a larger frame (as in a socket buffer), and its bounds. */
  function framed(text: string, encoding: BufferEncoding): { bytes: Buffer; start: number; end: number } {
    const inner = Buffer.from(text, encoding);
    return { bytes: Buffer.concat([Buffer.from('{"payload":"'), inner, Buffer.from('"}')]), start: 12, end: 12 + inner.length };
  }

  test('round trips any bytes, with room to spare or exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 8 }), (bytes, slack) => {
        const { bytes: frame, start, end } = framed(encodeBase64(bytes), 'latin1');
        const out = new Uint8Array(bytes.length + slack).fill(0xaa);
        assert.equal(decodeBase64BytesInto(frame, start, end, out), bytes.length);
        assert.deepEqual(out.subarray(0, bytes.length), bytes);
        assert.ok(out.subarray(bytes.length).every((v) => v === 0xaa), 'nothing written past the decoded length');
      }),
    );
  });

  test('property: accepts exactly what decodeBase64Into accepts (as UTF-8 text), with the same bytes', () => {
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
      fc.string({ maxLength: 24, unit: fc.constantFrom(...ALPHABET, '=', ...BAD_CHARS) }),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(...BAD_CHARS, '=', 'A')).map(([b, at, c]) => {
        const t = Buffer.from(b).toString('base64');
        const i = at % t.length;
        return t.slice(0, i) + c + t.slice(i + 1);
      }),
    );
    fc.assert(
      fc.property(text, fc.nat({ max: 40 }), (t, room) => {
        const { bytes, start, end } = framed(t, 'utf8');
        const fromBytes = new Uint8Array(room);
        const fromText = new Uint8Array(room);
        const n = decodeBase64BytesInto(bytes, start, end, fromBytes);
        assert.equal(n, decodeBase64Into(t, fromText), JSON.stringify(t));
        if (n > 0) assert.deepEqual(fromBytes.subarray(0, n), fromText.subarray(0, n));
      }),
      { numRuns: 3000 },
    );
  });

  test('every byte outside the alphabet is refused, in any position', () => {
    const valid = Buffer.from(encodeBase64(Uint8Array.from([1, 2, 3, 4, 5, 6])), 'latin1');
    const alphabet = new Set(Buffer.from(ALPHABET, 'latin1'));
    for (let byte = 0; byte < 256; byte++) {
      if (alphabet.has(byte)) continue;
      for (let at = 0; at < valid.length; at++) {
        const copy = Buffer.from(valid);
        copy[at] = byte;
        // "=" is padding only at the very end: "...A=" there is a valid shorter text.
        if (byte === 0x3d && at === valid.length - 1) continue;
        assert.equal(decodeBase64BytesInto(copy, 0, copy.length, new Uint8Array(16)), -1, `byte ${byte} at ${at}`);
      }
    }
  });
});
