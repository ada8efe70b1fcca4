import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SentAudioLog, type ReplayEntry } from '../../src/flow/sent-log.js';

/** PCM16 at 8 kHz: 16 bytes per ms, 2 per sample. */
const PCM16 = { bytesPerMs: 16, frameBytes: 2 };

/** The stream's byte at `offset` (a sequence no shift of which looks like another). */
const streamByte = (offset: number): number => ((offset * 2654435761) >>> 24) & 0xff;
const streamBytes = (from: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => streamByte(from + i));

const audioOf = (entries: readonly ReplayEntry[]) => entries.flatMap((e) => (e.kind === 'audio' ? [[e.itemId, e.sentenceId, e.offset, e.length]] : []));

describe('SentAudioLog', () => {
  test('takeFrom cuts the first send at the point, on a sample boundary, and puts the sentence ends the caller heard first', () => {
    const log = new SentAudioLog({ maxBytes: 10_000, maxEntries: 16, ...PCM16 });
    log.audio('a', 0, 0, streamBytes(0, 1_600)); // 0–100 ms
    log.sentenceEnd(0, 100);
    log.audio('a', 1, 100, streamBytes(1_600, 1_600)); // 100–200 ms
    log.sentenceEnd(1, 200);
    log.audio('b', 0, 200, streamBytes(3_200, 800)); // 200–250 ms
    const replay = log.takeFrom(130.03); // 130.03 ms = byte 2 080.48 → 2 080
    assert.deepEqual(replay.entries, [
      { kind: 'sentence-end', sentenceId: 0 },
      { kind: 'audio', itemId: 'a', sentenceId: 1, offset: 0, length: 1_120 },
      { kind: 'sentence-end', sentenceId: 1 },
      { kind: 'audio', itemId: 'b', sentenceId: 0, offset: 1_120, length: 800 },
    ]);
    assert.deepEqual(replay.bytes, streamBytes(2_080, 1_920));
    assert.equal(replay.durationMs, 120);
    assert.equal(replay.startMs, 130);
    assert.equal(log.size, 0);
    assert.equal(log.storageBytes, 0);
  });

  test('played forgets what the caller confirmed; a sentence end exactly at the confirmed point stays', () => {
    const log = new SentAudioLog({ maxBytes: 10_000, maxEntries: 16, ...PCM16 });
    log.audio('a', 0, 0, streamBytes(0, 1_600));
    log.sentenceEnd(0, 100);
    log.audio('a', 1, 100, streamBytes(1_600, 1_600));
    log.played(99);
    assert.equal(log.size, 3);
    log.played(100);
    assert.equal(log.size, 2, 'the first send played; its sentence end may still be echoing');
    log.played(150);
    assert.equal(log.size, 1);
    log.played(200);
    assert.equal(log.size, 0);
    assert.equal(log.storageBytes, 0, 'storage given back when empty');
  });

  test('the bounds forget the oldest first; a send larger than the bound empties the log', () => {
    const log = new SentAudioLog({ maxBytes: 3_200, maxEntries: 16, ...PCM16 });
    log.audio('a', 0, 0, streamBytes(0, 1_600));
    log.audio('a', 0, 100, streamBytes(1_600, 1_600));
    log.audio('a', 0, 200, streamBytes(3_200, 1_600));
    assert.equal(log.size, 2);
    const replay = log.takeFrom(50);
    assert.equal(replay.startMs, 100, 'the replay starts where the log still has audio');
    assert.deepEqual(replay.bytes, streamBytes(1_600, 3_200));
    log.audio('a', 0, 0, streamBytes(0, 1_600));
    log.audio('a', 0, 100, streamBytes(0, 3_202));
    assert.equal(log.size, 0);
    assert.equal(log.storageBytes, 0);
    const entries = new SentAudioLog({ maxBytes: 100_000, maxEntries: 2, ...PCM16 });
    entries.audio('a', 0, 0, streamBytes(0, 16));
    entries.sentenceEnd(0, 1);
    entries.audio('a', 1, 1, streamBytes(16, 16));
    assert.equal(entries.size, 2);
    const kept = entries.takeFrom(0);
    assert.equal(kept.startMs, 1, 'the first send was forgotten');
    assert.deepEqual(kept.entries, [{ kind: 'sentence-end', sentenceId: 0 }, { kind: 'audio', itemId: 'a', sentenceId: 1, offset: 0, length: 16 }]);
  });

  test('property: a replay is exactly the stream from the (sample-aligned) point to the last send, with every unconfirmed sentence end once, in order', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), ms: fc.integer({ min: 1, max: 200 }), item: fc.constantFrom('a', 'b') }),
      fc.record({ kind: fc.constant('sentence-end' as const) }),
      fc.record({ kind: fc.constant('played' as const), share: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (ops, fromShare) => {
        const log = new SentAudioLog({ maxBytes: 1_000_000, maxEntries: 1_000, ...PCM16 });
        let sentMs = 0;
        let confirmedMs = 0;
        let sentence = 0;
        const ends: { id: number; atMs: number }[] = [];
        const sends: { item: string; sentence: number; startMs: number; ms: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'send') {
            log.audio(o.item, sentence, sentMs, streamBytes(sentMs * 16, o.ms * 16));
            sends.push({ item: o.item, sentence, startMs: sentMs, ms: o.ms });
            sentMs += o.ms;
          } else if (o.kind === 'sentence-end') {
            log.sentenceEnd(sentence, sentMs);
            ends.push({ id: sentence++, atMs: sentMs });
          } else {
            confirmedMs = Math.max(confirmedMs, o.share * sentMs);
            log.played(confirmedMs);
          }
        }
        assert.ok(log.storageBytes <= 1_000_000);
        const fromMs = confirmedMs + fromShare * (sentMs - confirmedMs);
        const replay = log.takeFrom(fromMs);
        const fromByte = Math.min(Math.floor((fromMs * 16) / 2) * 2, sentMs * 16);
        assert.deepEqual(replay.bytes, streamBytes(fromByte, sentMs * 16 - fromByte));
        // Audio entries: one per send that is not wholly before the point, in order, tiling the bytes.
        const expectedAudio = sends
          .filter((s) => s.startMs + s.ms > fromMs && (s.startMs + s.ms) * 16 > fromByte)
          .map((s) => [s.item, s.sentence, Math.max(0, s.startMs * 16 - fromByte), s.ms * 16 - Math.max(0, fromByte - s.startMs * 16)]);
        let offset = 0;
        const tiled = expectedAudio.map(([item, sentenceId, , length]) => {
          const entry = [item, sentenceId, offset, length];
          offset += length as number;
          return entry;
        });
        assert.deepEqual(audioOf(replay.entries), tiled);
        // Sentence ends not confirmed (strictly after the confirmed point): those at or before the point first.
        const unconfirmed = ends.filter((e) => e.atMs >= confirmedMs);
        const ids = replay.entries.flatMap((e) => (e.kind === 'sentence-end' ? [e.sentenceId] : []));
        assert.deepEqual(ids, [...unconfirmed.filter((e) => e.atMs <= fromMs), ...unconfirmed.filter((e) => e.atMs > fromMs)].map((e) => e.id));
        assert.equal(log.size, 0);
        assert.equal(log.storageBytes, 0);
      }),
      { numRuns: 300 },
    );
  });
});
