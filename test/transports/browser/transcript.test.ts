import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitTranscript } from '../../../src/transports/browser/transcript.js';
import { MAX_CONTROL_BYTES, decodeServerMessage, encodeControl, utf8Length } from '../../../src/transports/browser/codec.js';

describe('splitTranscript', () => {
  test('pieces join back to the text, never split a surrogate pair, and always fit a message', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), (text) => {
        const pieces = splitTranscript(text);
        assert.equal(pieces.join(''), text);
        for (const piece of pieces) {
          assert.ok(piece.length <= 500);
          const last = piece.charCodeAt(piece.length - 1);
          const isLastPiece = piece === pieces.at(-1);
          if (!isLastPiece) assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'a high surrogate never ends a piece');
          const message = encodeControl({ type: 'transcript', role: 'assistant', text: piece, final: false });
          assert.ok(utf8Length(message) <= MAX_CONTROL_BYTES);
          assert.ok(decodeServerMessage(message).ok);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('short text is one piece, even when empty', () => {
    assert.deepEqual(splitTranscript(''), ['']);
    assert.deepEqual(splitTranscript('hello'), ['hello']);
  });

  test('worst-case escaping still fits: 500 control characters', () => {
    const message = encodeControl({ type: 'transcript', role: 'user', text: '\u0001'.repeat(500), final: true });
    assert.ok(utf8Length(message) <= MAX_CONTROL_BYTES, `${utf8Length(message)} bytes`);
  });
});
