/**
 * The audio-delta fast path against the full parser: it reads the golden wire frames
 * (test/fixtures/openai/wire.response.output_audio.delta.jsonl, sources in SOURCES.md) and, for
 * any text, either returns exactly the full parser's event (and the delta's bytes) or leaves the
 * text to it.
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isValidBase64 } from '../../../src/audio/base64.js';
import { AudioDeltaFastPath, type FastAudioDelta } from '../../../src/models/openai-realtime/delta-fast-path.js';
import { parseServerEvent } from '../../../src/models/openai-realtime/protocol.js';

const WIRE = readFileSync(join(import.meta.dirname, '../../fixtures/openai/wire.response.output_audio.delta.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line !== '');

const GOLDEN_EVENT = {
  type: 'response.output_audio.delta',
  event_id: 'event_C9G8aRtNq9ekU0dXhp2cS',
  response_id: 'resp_C9G8ZgzWrq1vbzGzuPnkj',
  item_id: 'item_C9G8aOjbYpKDZGYqOG5Tw',
  output_index: 0,
  content_index: 0,
  delta: '//////////9/fn19fHx8fX5/f37+/Q==',
};

interface Fields {
  eventId: unknown;
  responseId: unknown;
  itemId: unknown;
  outputIndex: unknown;
  contentIndex: unknown;
  delta: unknown;
}

/** A number written as these digits (JSON.stringify would round a long one before the parsers see it). */
class Digits {
  constructor(readonly digits: string) {}
}

/** A delta in the API's order (`type` first) or the reference's (`event_id` first), each value JSON.stringify'd. */
function deltaText(f: Fields, typeFirst: boolean): string {
  const q = (value: unknown): string => (value instanceof Digits ? value.digits : JSON.stringify(value));
  const head = typeFirst
    ? `{"type":"response.output_audio.delta","event_id":${q(f.eventId)}`
    : `{"event_id":${q(f.eventId)},"type":"response.output_audio.delta"`;
  return `${head},"response_id":${q(f.responseId)},"item_id":${q(f.itemId)},"output_index":${q(f.outputIndex)},"content_index":${q(f.contentIndex)},"delta":${q(f.delta)}}`;
}

/** A fresh buffer per delta (as the session's passthrough target), or one scratch reused (its conversion target). */
function targets(): { fresh: (length: number) => Uint8Array; scratch: (length: number) => Uint8Array } {
  let scratch = new Uint8Array(0);
  return {
    fresh: (length) => Buffer.alloc(length, 0xaa),
    scratch: (length) => {
      if (scratch.length < length) scratch = new Uint8Array(length + 7).fill(0xaa);
      return scratch;
    },
  };
}

const target = targets();

function read(reader: AudioDeltaFastPath, text: string, scratch = false): FastAudioDelta | undefined {
  return reader.read(text, scratch ? target.scratch : target.fresh);
}

/**
 * The fast path's answer must be the full parser's event and the bytes strict decoding gives, or
 * nothing (then the full parser decides).
 */
function assertSubsetOfFull(reader: AudioDeltaFastPath, text: string, scratch = false): boolean {
  const fast = read(reader, text, scratch);
  if (fast === undefined) return false;
  const full = parseServerEvent(text);
  assert.ok(full.kind === 'event' && full.event.type === 'response.output_audio.delta', `fast path accepted what the full parser refuses: ${text.slice(0, 120)}`);
  assert.deepEqual(fast.event, full.event);
  // What the fast path promises on top: the delta is valid base64, decoded exactly.
  assert.ok(isValidBase64(full.event.delta), `invalid base64 through the fast path: ${full.event.delta.slice(0, 40)}`);
  assert.deepEqual(Array.from(fast.wire), Array.from(Buffer.from(full.event.delta, 'base64')));
  return true;
}

const idChars = fc.stringMatching(/^[A-Za-z0-9_]{0,40}$/);
const id = fc.oneof(idChars, fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('a"b', 'a\\b', 'tab\there', 'é', '\ud800'));
const index = fc.oneof(fc.nat({ max: 5 }), fc.nat(), fc.integer(), fc.double(), fc.constantFrom(999_999_999, 1_000_000_000, -0, 1e21), fc.string({ maxLength: 3 }), fc.constant(null), fc.stringMatching(/^(0|[1-9][0-9]{7,24})$/).map((d) => new Digits(d)));
const delta = fc.oneof(
  fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b).toString('base64').replace(/=+$/, '')),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('A/B=', 'AA==', 'AAA=', '====', 'A===', '=AAA', 'AA=A', 'AAAA\n', 'AA/\\/'),
  fc.constant(7),
);
const fields = fc.record({ eventId: id, responseId: id, itemId: id, outputIndex: index, contentIndex: index, delta });

describe('Realtime audio-delta fast path', () => {
  test('the golden wire frames (API order and reference order) are read as the full parser reads them', () => {
    assert.equal(WIRE.length, 2);
    for (const text of WIRE) {
      const reader = new AudioDeltaFastPath();
      const fast = read(reader, text);
      assert.deepEqual(fast?.event, GOLDEN_EVENT);
      assert.deepEqual(fast.wire, Buffer.from(GOLDEN_EVENT.delta, 'base64'));
      assert.ok(assertSubsetOfFull(reader, text));
      assert.ok(assertSubsetOfFull(reader, text, true));
    }
  });

  test('ids repeated from the previous delta are the same strings; a new id is read as sent', () => {
    const reader = new AudioDeltaFastPath();
    const first = read(reader, WIRE[0]!)?.event;
    const second = read(reader, WIRE[1]!)?.event;
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(second.response_id, first.response_id);
    assert.equal(second.item_id, first.item_id);
    const next = read(reader, WIRE[0]!.replace('item_C9G8aOjbYpKDZGYqOG5Tw', 'item_C9G8aOjbYpKDZGYqOG5Tx').replace('resp_C9G8ZgzWrq1vbzGzuPnkj', 'resp_2'))?.event;
    assert.equal(next?.item_id, 'item_C9G8aOjbYpKDZGYqOG5Tx');
    assert.equal(next?.response_id, 'resp_2');
    // Same length, other characters: not mistaken for the cached id.
    assert.equal(read(reader, WIRE[0]!.replace('resp_2', 'resp_3'))?.event.response_id, 'resp_C9G8ZgzWrq1vbzGzuPnkj');
    assert.equal(read(reader, WIRE[0]!.replace('resp_C9G8ZgzWrq1vbzGzuPnkj', 'resp_C9G8ZgzWrq1vbzGzuPnkk'))?.event.response_id, 'resp_C9G8ZgzWrq1vbzGzuPnkk');
  });

  test('other orders, spaces, escapes, extra or missing fields and other events are left to the full parser', () => {
    const reader = new AudioDeltaFastPath();
    const golden = GOLDEN_EVENT as Record<string, unknown>;
    const { delta: d, ...withoutDelta } = golden;
    const texts = [
      JSON.stringify(golden, null, 1),
      JSON.stringify({ ...withoutDelta, delta: d, extra: 1 }),
      JSON.stringify(withoutDelta),
      JSON.stringify({ response_id: golden.response_id, ...golden }),
      JSON.stringify({ ...golden, type: 'response.output_audio_transcript.delta' }),
      JSON.stringify({ ...golden, output_index: 1.5 }),
      JSON.stringify({ ...golden, content_index: -1 }),
      JSON.stringify({ ...golden, delta: 'AAA' }),
      // Valid base64 for the strict decoder, but not canonical (left-over bits): the full path reads it.
      JSON.stringify({ ...golden, delta: 'AB==' }),
      JSON.stringify({ ...golden, delta: 'AA-_' }),
      JSON.stringify({ ...golden, delta: 'AA","x":"AA' }),
      WIRE[0]!.replace('"event_C9G8', '"ev\\u0065nt_C9G8'),
      WIRE[0]!.replace('+/Q==', '+\\/Q=='),
      `${WIRE[0]!} `,
      WIRE[0]!.replace('"output_index":0', '"output_index":00'),
      WIRE[0]!.replace('"content_index":0', '"content_index":0e0'),
    ];
    for (const text of texts) {
      assert.equal(read(reader, text), undefined, text.slice(0, 80));
      // The full parser still reads the valid ones, and gives its coded error for the rest.
      assert.notEqual(parseServerEvent(text).kind, 'unknown');
    }
  });

  test('property: any delta in either layout reads exactly as the full parser reads it; the common shape takes the fast path', () => {
    const reader = new AudioDeltaFastPath();
    fc.assert(
      fc.property(fields, fc.boolean(), fc.boolean(), (f, typeFirst, scratch) => {
        const text = deltaText(f, typeFirst);
        const fast = assertSubsetOfFull(reader, text, scratch);
        const common = [f.eventId, f.responseId, f.itemId].every((v) => typeof v === 'string' && /^[A-Za-z0-9_]*$/.test(v))
          && [f.outputIndex, f.contentIndex].every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 1e9 && !Object.is(v, -0))
          && typeof f.delta === 'string' && isValidBase64(f.delta) && Buffer.from(f.delta, 'base64').toString('base64') === f.delta;
        if (common) assert.ok(fast, `a valid delta missed the fast path: ${text.slice(0, 120)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('property: a valid delta with one character changed, inserted or removed is read as the full parser reads it, or left to it', () => {
    const valid = fc.record({
      eventId: idChars, responseId: idChars, itemId: idChars,
      outputIndex: fc.nat({ max: 12 }), contentIndex: fc.nat({ max: 12 }),
      delta: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64')),
    });
    const reader = new AudioDeltaFastPath();
    fc.assert(
      fc.property(valid, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('replace', 'insert', 'delete'), fc.boolean(), (f, typeFirst, at, code, edit, scratch) => {
        const text = deltaText(f, typeFirst);
        const i = at % text.length;
        const c = String.fromCharCode(code);
        const mutated = edit === 'replace' ? text.slice(0, i) + c + text.slice(i + 1) : edit === 'insert' ? text.slice(0, i) + c + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
        assertSubsetOfFull(reader, mutated, scratch);
      }),
      { numRuns: 5000 },
    );
  });

  test('every single-character mutation of the golden frames, with the characters that matter, is read as the full parser reads it or left to it', () => {
    const reader = new AudioDeltaFastPath();
    const characters = ['"', '\\', ' ', '0', '1', '9', '=', 'A', '/', '}', '{', ',', ':', '-', '.', 'e', '\u0000', '\u001f', 'é', '\ud800'];
    let accepted = 0;
    for (const text of WIRE) {
      for (let i = 0; i <= text.length; i++) {
        const variants = characters.flatMap((c) => [text.slice(0, i) + c + text.slice(i + 1), text.slice(0, i) + c + text.slice(i)]);
        variants.push(text.slice(0, i) + text.slice(i + 1));
        for (const mutated of variants) if (assertSubsetOfFull(reader, mutated)) accepted++;
      }
    }
    // Changes inside ids, indexes and the base64 are still deltas: the fast path keeps reading those.
    assert.ok(accepted > 1000, `only ${accepted} mutated frames took the fast path`);
  });
});
