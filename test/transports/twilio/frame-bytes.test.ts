import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allPlain, digitsEnd, digitsValue, isPlainByte } from '../../../src/transports/twilio/frame-bytes.js';
import { DIGITS } from '../../../src/transports/media-stream/json-fields.js';

void describe('Twilio frame bytes', () => {
  void test('a plain byte is one that JSON writes as itself inside a string and UTF-8 encodes as itself (all of them but DEL, left out)', () => {
    for (let b = 0; b < 256; b++) {
      const c = String.fromCharCode(b);
      const itself = JSON.stringify(c) === `"${c}"` && Buffer.from(c, 'utf8').length === 1;
      assert.equal(isPlainByte(b), itself && b !== 0x7f, `byte ${b}`);
    }
  });

  void test('property: allPlain holds exactly when every byte in the range is plain', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = Math.min(a, b) % (bytes.length + 1);
        const end = Math.max(start, Math.max(a, b) % (bytes.length + 1));
        assert.equal(allPlain(bytes, start, end), bytes.subarray(start, end).every(isPlainByte));
      }),
    );
  });

  void test('property: digitsEnd and digitsValue read a counter exactly as DIGITS and Number do', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{0,18}$/), fc.constantFrom('"', '', 'x', '0'), (digits, after) => {
        const bytes = Buffer.from(`"${digits}${after}`, 'latin1');
        const end = digitsEnd(bytes, 1);
        const run = (digits + (after === '0' ? '0' : '')).length;
        if (DIGITS.test(digits + (after === '0' ? '0' : ''))) {
          assert.equal(end, 1 + run);
          assert.equal(digitsValue(bytes, 1, end), Number(digits + (after === '0' ? '0' : '')));
        } else {
          assert.equal(end, -1);
        }
      }),
    );
  });
});
