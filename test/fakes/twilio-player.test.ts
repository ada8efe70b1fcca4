import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ring, TwilioPlayer, type PlayerEcho } from './twilio-player.js';

function player(options: { maxBufferedMs?: number; playedAudioCap?: number } = {}): { p: TwilioPlayer; echoes: PlayerEcho[] } {
  const echoes: PlayerEcho[] = [];
  const p = new TwilioPlayer({ onEcho: (e) => echoes.push(e), ...options });
  return { p, echoes };
}

const ms = (n: number, value = 0x11): Uint8Array => new Uint8Array(n * 8).fill(value);

void describe('TwilioPlayer (the fake caller playout model, on a manual clock)', () => {
  void test('plays 8 bytes per ms and echoes a mark when the audio before it has played', () => {
    const { p, echoes } = player();
    p.enqueueAudio(ms(100), 0);
    p.enqueueMark('A', 0);
    p.advance(50);
    assert.equal(p.playedMs, 50);
    assert.equal(p.bufferedMs, 50);
    assert.deepEqual(echoes, []);
    p.advance(130);
    assert.deepEqual(echoes, [{ name: 'A', cause: 'played', dueAt: 100, playedMs: 100 }]);
  });

  void test('a mark with nothing buffered is echoed at once', () => {
    const { p, echoes } = player();
    p.enqueueMark('now', 7);
    assert.deepEqual(echoes, [{ name: 'now', cause: 'played', dueAt: 7, playedMs: 0 }]);
  });

  void test('echoes come in send order, each when its own audio has played', () => {
    const { p, echoes } = player();
    p.enqueueAudio(ms(40), 0);
    p.enqueueMark('A', 0);
    p.enqueueAudio(ms(60), 0);
    p.enqueueMark('B', 0);
    p.enqueueMark('C', 0);
    p.advance(1000);
    assert.deepEqual(
      echoes.map((e) => [e.name, e.dueAt, e.playedMs]),
      [
        ['A', 40, 40],
        ['B', 100, 100],
        ['C', 100, 100],
      ],
    );
  });

  void test('clear drops the buffer and echoes every pending mark at once', () => {
    const { p, echoes } = player();
    p.enqueueAudio(ms(100), 0);
    p.enqueueMark('A', 0);
    p.enqueueAudio(ms(100), 0);
    p.enqueueMark('B', 0);
    const result = p.clear(50);
    assert.deepEqual(result, { droppedBytes: 150 * 8, flushedMarks: 2 });
    assert.deepEqual(
      echoes.map((e) => [e.name, e.cause, e.dueAt, e.playedMs]),
      [
        ['A', 'clear', 50, 50],
        ['B', 'clear', 50, 50],
      ],
    );
    assert.equal(p.bufferedMs, 0);
    p.advance(500);
    assert.equal(p.playedMs, 50);
    assert.deepEqual(p.dryPeriods.toArray(), [{ start: 50, end: undefined, cause: 'clear' }]);
  });

  void test('an underrun is recorded from the exact end of the audio to the arrival of more', () => {
    const { p } = player();
    p.enqueueAudio(ms(100), 0);
    p.advance(150);
    p.enqueueAudio(ms(20), 300);
    p.advance(400);
    assert.deepEqual(p.dryPeriods.toArray(), [
      { start: 100, end: 300, cause: 'drained' },
      { start: 320, end: undefined, cause: 'drained' },
    ]);
    assert.equal(p.heardSince(0), 120);
    assert.equal(p.heardSince(50), 70);
    assert.equal(p.heardSince(310), 10);
  });

  void test('silence before the first audio is not an underrun', () => {
    const { p } = player();
    p.advance(500);
    p.enqueueAudio(ms(10), 500);
    assert.deepEqual(p.dryPeriods.toArray(), []);
  });

  void test('keeps the last played bytes in order, within its cap', () => {
    const { p } = player({ playedAudioCap: 24 });
    p.enqueueAudio(Uint8Array.from({ length: 40 }, (_, i) => i), 0);
    p.advance(5);
    assert.deepEqual([...p.playedAudio()], Array.from({ length: 24 }, (_, i) => i + 16));
  });

  void test('drops audio past its buffer cap and says how much', () => {
    const { p } = player({ maxBufferedMs: 10 });
    assert.equal(p.enqueueAudio(ms(8), 0), 0);
    assert.equal(p.enqueueAudio(ms(5), 0), 3 * 8);
    assert.equal(p.bufferedMs, 10);
  });

  void test('played + buffered + cleared always equals what was received, under any schedule', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('audio' as const), bytes: fc.integer({ min: 1, max: 4000 }) }),
      fc.record({ kind: fc.constant('mark' as const) }),
      fc.record({ kind: fc.constant('clear' as const) }),
      fc.record({ kind: fc.constant('advance' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.integer({ min: 0, max: 300 })), { maxLength: 60 }), (ops) => {
        const { p, echoes } = player();
        let now = 0;
        let received = 0;
        let marks = 0;
        for (const [o, dt] of ops) {
          now += dt;
          if (o.kind === 'audio') {
            p.enqueueAudio(new Uint8Array(o.bytes), now);
            received += o.bytes;
          } else if (o.kind === 'mark') p.enqueueMark(`m${marks++}`, now);
          else if (o.kind === 'clear') p.clear(now);
          else p.advance(now);
          assert.equal(p.playedBytes + p.bufferedBytes + p.clearedBytes, received);
        }
        p.advance(now + 1e6);
        assert.equal(p.bufferedBytes, 0);
        // Every mark is echoed exactly once, in send order.
        assert.deepEqual(
          echoes.map((e) => e.name),
          Array.from({ length: marks }, (_, i) => `m${i}`),
        );
      }),
      { numRuns: 300 },
    );
  });

  void test('the played-audio ring holds the last bytes played, whatever the chunk sizes (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 12 }), (cap, sizes) => {
        const { p } = player({ playedAudioCap: cap });
        const all: number[] = [];
        let now = 0;
        for (const size of sizes) {
          const bytes = Uint8Array.from({ length: size }, (_, i) => (all.length + i) % 251);
          all.push(...bytes);
          p.enqueueAudio(bytes, now);
          now += size / 8;
          p.advance(now);
        }
        assert.deepEqual([...p.playedAudio()], all.slice(-cap));
      }),
    );
  });

  void test('headEndsBy: true from the instant the playing chunk ends, false while it plays or nothing is queued', () => {
    const { p } = player();
    assert.equal(p.headEndsBy(1000), false);
    p.enqueueAudio(ms(100), 0);
    assert.equal(p.headEndsBy(99.9), false);
    assert.equal(p.headEndsBy(100), true);
    p.advance(40);
    assert.equal(p.headEndsBy(99.9), false);
    assert.equal(p.headEndsBy(100), true);
    p.advance(100);
    assert.equal(p.headEndsBy(10_000), false);
  });

  void test('advancing only when headEndsBy gives the echoes, dry periods and bytes of advancing every tick (fast-check)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('audio' as const), bytes: fc.integer({ min: 1, max: 2000 }) }),
      fc.record({ kind: fc.constant('mark' as const) }),
      fc.record({ kind: fc.constant('clear' as const) }),
      fc.record({ kind: fc.constant('tick' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(op, fc.integer({ min: 0, max: 120 })), { maxLength: 80 }), (ops) => {
        const eager = player({ playedAudioCap: 64 });
        const lazy = player({ playedAudioCap: 64 });
        let now = 0;
        let marks = 0;
        for (const [o, dt] of ops) {
          now += dt;
          for (const { p } of [eager, lazy]) {
            if (o.kind === 'audio') p.enqueueAudio(Uint8Array.from({ length: o.bytes }, (_, i) => (now + i) & 0xff), now);
            else if (o.kind === 'mark') p.enqueueMark(`m${marks}`, now);
            else if (o.kind === 'clear') p.clear(now);
          }
          if (o.kind === 'mark') marks++;
          if (o.kind === 'tick') {
            eager.p.advance(now);
            if (lazy.p.headEndsBy(now)) lazy.p.advance(now);
            // Echoes and dry periods happen at the same ticks.
            assert.deepEqual(lazy.echoes.map((e) => [e.name, e.cause]), eager.echoes.map((e) => [e.name, e.cause]));
            assert.equal(lazy.p.dryPeriods.length, eager.p.dryPeriods.length);
          }
        }
        for (const { p } of [eager, lazy]) p.advance(now + 1);
        const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;
        assert.equal(lazy.echoes.length, eager.echoes.length);
        lazy.echoes.forEach((e, i) => {
          const other = eager.echoes[i]!;
          assert.ok(e.name === other.name && e.cause === other.cause && close(e.dueAt, other.dueAt) && close(e.playedMs, other.playedMs), `echo ${i}`);
        });
        const eagerDry = eager.p.dryPeriods.toArray();
        const lazyDry = lazy.p.dryPeriods.toArray();
        assert.equal(lazyDry.length, eagerDry.length);
        lazyDry.forEach((d, i) => {
          const other = eagerDry[i]!;
          const sameEnd = d.end === undefined ? other.end === undefined : other.end !== undefined && close(d.end, other.end);
          assert.ok(d.cause === other.cause && close(d.start, other.start) && sameEnd, `dry period ${i}`);
        });
        assert.equal(lazy.p.playedBytes, eager.p.playedBytes);
        assert.equal(lazy.p.bufferedBytes, eager.p.bufferedBytes);
        assert.deepEqual(lazy.p.playedAudio(), eager.p.playedAudio());
      }),
      { numRuns: 500 },
    );
  });

  void test('Ring keeps the newest items in order and counts all', () => {
    const ring = new Ring<number>(3);
    for (let i = 0; i < 5; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [2, 3, 4]);
    assert.equal(ring.total, 5);
    assert.equal(ring.last(), 4);
  });
});
