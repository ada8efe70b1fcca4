/**
 * The SSE parser gives the same events whatever the chunking (split-input property, house style
 * 13), follows the spec's line endings, comments and fields, and bounds what it buffers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import { SseParser, type SseEvent } from '../../../src/models/cascade/sse.js';

function parseWhole(text: string): SseEvent[] {
  return new SseParser().push(text);
}

function parseSplit(text: string, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    events.push(...parser.push(text.slice(at, cut)));
    at = cut;
  }
  events.push(...parser.push(text.slice(at)));
  return events;
}

describe('SseParser', () => {
  test('parses OpenAI-style chunks and [DONE]', () => {
    const text = 'data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n';
    assert.deepEqual(
      parseWhole(text).map((e) => e.data),
      ['{"a":1}', '{"a":2}', '[DONE]'],
    );
  });

  test('joins multi-line data, reads event and id fields, skips comments and unknown fields', () => {
    const events = parseWhole(': keep-alive\nevent: error\nid: 7\nretry: 10\nfoo: bar\ndata: one\ndata:two\n\n');
    assert.deepEqual(events, [{ event: 'error', data: 'one\ntwo', id: '7' }]);
  });

  test('accepts CRLF, CR and LF line endings, and a leading BOM', () => {
    const lf = parseWhole('data: x\n\ndata: y\n\n');
    assert.deepEqual(parseWhole('\ufeffdata: x\r\n\r\ndata: y\r\n\r\n'), lf);
    assert.deepEqual(parseWhole('data: x\r\rdata: y\r\r'), lf);
  });

  test('a CR at the end of one chunk and an LF at the start of the next are one line ending', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: x\r'), []);
    assert.deepEqual(parser.push('\n\r'), [{ event: 'message', data: 'x', id: undefined }]);
    assert.deepEqual(parser.push('\ndata: y\n\n').map((e) => e.data), ['y']);
  });

  test('the same events come out however the stream is split (property)', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 12 }).map((s) => `data: ${s.replace(/[\r\n]/g, '')}`),
      fc.constantFrom(': comment', 'event: x', 'id: 3', 'data', 'data:'),
    );
    const ending = fc.constantFrom('\n', '\r\n', '\r');
    const stream = fc.array(fc.tuple(line, ending, fc.boolean()), { maxLength: 20 }).map((parts) =>
      parts.map(([l, e, blank]) => l + e + (blank ? e : '')).join(''),
    );
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), (text, rawCuts) => {
        const cuts = rawCuts.map((c) => (text.length === 0 ? 0 : c % (text.length + 1)));
        assert.deepEqual(parseSplit(text, cuts), parseWhole(text));
      }),
    );
  });

  test('an unterminated event at the end is discarded and reported', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: partial'), []);
    assert.equal(parser.end(), true);
    assert.equal(new SseParser().end(), false);
  });

  test('a line longer than the bound is VW_ERR_MALFORMED_STREAM, not an ever-growing buffer', () => {
    const parser = new SseParser({ maxLineChars: 100, source: 'llm' });
    parser.push('data: ' + 'x'.repeat(90));
    assert.throws(() => parser.push('x'.repeat(20)), (err) => isVoicewireError(err, 'VW_ERR_MALFORMED_STREAM'));
    const events = new SseParser({ maxEventChars: 50 });
    assert.throws(() => events.push('data: ' + 'y'.repeat(30) + '\ndata: ' + 'y'.repeat(30) + '\n'), (err) =>
      isVoicewireError(err, 'VW_ERR_MALFORMED_STREAM'),
    );
  });
});
