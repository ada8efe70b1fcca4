import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { AudioQueue, type OverflowPolicy } from '../../src/flow/audio-queue.js';
import { isVoicewireError } from '../../src/errors.js';
import { activeTimers, rejectsWithCode, stateOf, throwsWithCode } from './helpers.js';

interface Chunk {
  readonly id: number;
  readonly durationMs: number;
  readonly producer?: number;
}

let nextId = 0;
function chunk(durationMs: number, producer?: number): Chunk {
  return { id: nextId++, durationMs, producer };
}

describe('AudioQueue construction', () => {
  for (const hwm of [Number.NaN, -1, 0, Number.POSITIVE_INFINITY]) {
    test(`a highWaterMarkMs of ${hwm} is refused with VW_ERR_INVALID_SIZE`, () => {
      throwsWithCode(() => new AudioQueue<Chunk>({ highWaterMarkMs: hwm }), 'VW_ERR_INVALID_SIZE');
    });
  }

  test('a new queue is empty, open and wants its whole high water mark', () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 500 });
    assert.equal(queue.highWaterMarkMs, 500);
    assert.equal(queue.queuedMs, 0);
    assert.equal(queue.length, 0);
    assert.equal(queue.desiredSize, 500);
    assert.equal(queue.closed, false);
  });
});

describe('AudioQueue sizes', () => {
  for (const size of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
    test(`a chunk of ${size} ms is refused by write() and tryWrite() with VW_ERR_INVALID_SIZE`, async () => {
      const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
      await rejectsWithCode(queue.write(chunk(size)), 'VW_ERR_INVALID_SIZE');
      throwsWithCode(() => queue.tryWrite(chunk(size)), 'VW_ERR_INVALID_SIZE');
      assert.equal(queue.length, 0);
    });
  }

  test('a chunk longer than the high water mark is refused with VW_ERR_CHUNK_TOO_LARGE', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await rejectsWithCode(queue.write(chunk(101)), 'VW_ERR_CHUNK_TOO_LARGE');
    throwsWithCode(() => queue.tryWrite(chunk(101)), 'VW_ERR_CHUNK_TOO_LARGE');
  });

  test('queuedMs, length and desiredSize follow writes and reads', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(20));
    await queue.write(chunk(30));
    assert.deepEqual([queue.queuedMs, queue.length, queue.desiredSize], [50, 2, 50]);
    await queue.read();
    assert.deepEqual([queue.queuedMs, queue.length, queue.desiredSize], [30, 1, 70]);
  });

  test('zero-length chunks (markers) are queued in order between audio chunks', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 40 });
    const a = chunk(40);
    const marker = chunk(0);
    await queue.write(a);
    assert.equal(queue.tryWrite(marker), true);
    assert.equal(queue.tryRead(), a);
    assert.equal(queue.tryRead(), marker);
  });

  test('maxChunks bounds a queue of zero-length chunks', () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 40, maxChunks: 3 });
    assert.deepEqual([0, 0, 0, 0].map(() => queue.tryWrite(chunk(0))), [true, true, true, false]);
  });
});

describe('AudioQueue size option', () => {
  test('a size function measures chunks that carry no durationMs, and is measured once per write', async () => {
    const calls: string[] = [];
    const queue = new AudioQueue<string>({
      highWaterMarkMs: 10,
      size: (text) => {
        calls.push(text);
        return text.length;
      },
    });
    await queue.write('abcd');
    assert.equal(queue.tryWrite('efghij'), true);
    assert.deepEqual([queue.queuedMs, queue.length, queue.desiredSize], [10, 2, 0]);
    assert.equal(queue.tryWrite('k'), false);
    assert.equal(await queue.read(), 'abcd');
    assert.deepEqual([queue.queuedMs, queue.desiredSize], [6, 4]);
    assert.deepEqual(calls, ['abcd', 'efghij', 'k']);
  });

  test('without a size function, chunks that carry no durationMs do not type-check (and are refused at run time)', () => {
    // @ts-expect-error -- a queue of strings must say how to size them
    const queue = new AudioQueue<string>({ highWaterMarkMs: 10 });
    throwsWithCode(() => queue.tryWrite('x'), 'VW_ERR_INVALID_SIZE');
  });

  test('a size function overrides durationMs (an item count)', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 2, size: () => 1 });
    await queue.write(chunk(500));
    await queue.write(chunk(500));
    assert.equal(await stateOf(queue.write(chunk(0))), 'pending');
    assert.equal(queue.abort('test'), 2);
  });

  for (const size of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
    test(`a size function returning ${size} is refused with VW_ERR_INVALID_SIZE`, async () => {
      const queue = new AudioQueue<string>({ highWaterMarkMs: 10, size: () => size });
      await rejectsWithCode(queue.write('x'), 'VW_ERR_INVALID_SIZE');
      throwsWithCode(() => queue.tryWrite('x'), 'VW_ERR_INVALID_SIZE');
      assert.equal(queue.length, 0);
    });
  }

  test('a size above the high water mark is refused with VW_ERR_CHUNK_TOO_LARGE', () => {
    const queue = new AudioQueue<string>({ highWaterMarkMs: 3, size: (text) => text.length });
    throwsWithCode(() => queue.tryWrite('abcd'), 'VW_ERR_CHUNK_TOO_LARGE');
  });

  test('the size a chunk had when written is the size taken off when it is read', async () => {
    const chunkOf = { durationMs: 30 };
    const queue = new AudioQueue<{ durationMs: number }>({ highWaterMarkMs: 100 });
    await queue.write(chunkOf);
    await queue.write({ durationMs: 10 });
    chunkOf.durationMs = 90; // a chunk mutated while queued must not corrupt the running total
    await queue.read();
    assert.equal(queue.queuedMs, 10);
  });
});

describe('AudioQueue with the wait policy', () => {
  test('write() waits while the chunk does not fit and completes when a read makes room', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(80));
    const second = chunk(40);
    const writing = queue.write(second);
    assert.equal(await stateOf(writing), 'pending');
    assert.equal(queue.tryWrite(chunk(10)), false, 'tryWrite does not overtake a waiting writer');
    await queue.read();
    await writing;
    assert.equal(queue.peek(), second);
  });

  test('read() waits while empty and resolves with the next chunk written', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    const reading = queue.read();
    assert.equal(await stateOf(reading), 'pending');
    const c = chunk(10);
    await queue.write(c);
    assert.equal(await reading, c);
  });

  test('a woken writer re-checks its condition: two producers, room for one', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    const a = chunk(60, 1);
    const b = chunk(60, 2);
    const writeA = queue.write(a);
    const writeB = queue.write(b);
    await queue.read();
    await writeA;
    assert.equal(await stateOf(writeB), 'pending');
    assert.equal(queue.queuedMs, 60);
    await queue.read();
    await writeB;
    assert.equal(queue.peek(), b);
  });

  test('waiting writers are served in arrival order, so a large chunk is not starved by small ones', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(90));
    const big = chunk(90);
    const small = chunk(5);
    const order: Chunk[] = [];
    const writes = [queue.write(big).then(() => order.push(big)), queue.write(small).then(() => order.push(small))];
    assert.equal(await stateOf(writes[1]!), 'pending', 'the small chunk would fit but waits its turn');
    await queue.read();
    await Promise.all(writes);
    assert.deepEqual(order, [big, small]);
  });

  test('a write that waits past timeoutMs rejects with VW_ERR_DEADLINE and leaves the queue unchanged', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    await rejectsWithCode(queue.write(chunk(10), { timeoutMs: 5 }), 'VW_ERR_DEADLINE');
    assert.equal(queue.length, 1);
  });

  test('a read that waits past timeoutMs rejects with VW_ERR_DEADLINE', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await rejectsWithCode(queue.read({ timeoutMs: 5 }), 'VW_ERR_DEADLINE');
  });

  test('a writer that times out passes its turn to the writer behind it', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(50));
    const first = queue.write(chunk(60), { timeoutMs: 5 });
    const second = queue.write(chunk(50));
    assert.equal(await stateOf(second), 'pending', 'it fits but waits behind the first writer');
    await rejectsWithCode(first, 'VW_ERR_DEADLINE');
    await second;
    assert.equal(queue.queuedMs, 100);
  });

  test('no timer is left running after a wait with a deadline resolves', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    const before = activeTimers();
    const writing = queue.write(chunk(10), { timeoutMs: 60_000 });
    assert.equal(activeTimers(), before + 1);
    await queue.read();
    await writing;
    assert.equal(activeTimers(), before);
  });

  test('aborting the signal ends a waiting write with VW_ERR_ABORTED carrying the reason as cause', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    const controller = new AbortController();
    const writing = queue.write(chunk(10), { signal: controller.signal });
    const reason = new Error('caller hung up');
    controller.abort(reason);
    await assert.rejects(writing, (err: unknown) => isVoicewireError(err, 'VW_ERR_ABORTED') && err.cause === reason);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('an already aborted signal rejects at once without enqueuing', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await rejectsWithCode(queue.write(chunk(10), { signal: AbortSignal.abort() }), 'VW_ERR_ABORTED');
    await rejectsWithCode(queue.read({ signal: AbortSignal.abort() }), 'VW_ERR_ABORTED');
    assert.equal(queue.length, 0);
  });

  test('the abort listener is removed once a wait with a signal resolves', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    const controller = new AbortController();
    const reading = queue.read({ signal: controller.signal });
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    await queue.write(chunk(10));
    await reading;
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('AudioQueue abort', () => {
  test('abort() drops everything queued at once and returns the ms dropped', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(20));
    await queue.write(chunk(30));
    assert.equal(queue.abort('barge-in'), 50);
    assert.deepEqual([queue.queuedMs, queue.length, queue.peek()], [0, 0, undefined]);
  });

  test('abort() rejects a waiting reader and a waiting writer with VW_ERR_ABORTED', async () => {
    const readerQueue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    const reading = readerQueue.read();
    readerQueue.abort('barge-in');
    await rejectsWithCode(reading, 'VW_ERR_ABORTED');

    const writerQueue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await writerQueue.write(chunk(100));
    const writing = writerQueue.write(chunk(50));
    writerQueue.abort('barge-in');
    await rejectsWithCode(writing, 'VW_ERR_ABORTED');
    assert.equal(writerQueue.length, 0, 'the waiting chunk is dropped too, not written after the abort');
  });

  test('the queue stays usable after abort()', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    queue.abort('barge-in');
    const c = chunk(100);
    await queue.write(c);
    assert.equal(await queue.read(), c);
    assert.equal(queue.closed, false);
  });

  test('abort() does not call onDrop', async () => {
    const dropped: Chunk[] = [];
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100, overflow: 'drop-oldest', onDrop: (c) => dropped.push(c) });
    await queue.write(chunk(50));
    queue.abort('barge-in');
    assert.deepEqual(dropped, []);
  });
});

describe('AudioQueue close', () => {
  test('readers drain what is queued after close(), then get undefined', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    const a = chunk(10);
    await queue.write(a);
    queue.close();
    assert.equal(queue.closed, true);
    assert.equal(await queue.read(), a);
    assert.equal(await queue.read(), undefined);
  });

  test('a reader waiting on an empty queue gets undefined when it closes', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    const reading = queue.read();
    queue.close();
    assert.equal(await reading, undefined);
  });

  test('a pending writer rejects with VW_ERR_CLOSED, and so does any later write', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100 });
    await queue.write(chunk(100));
    const writing = queue.write(chunk(10));
    queue.close();
    await rejectsWithCode(writing, 'VW_ERR_CLOSED');
    await rejectsWithCode(queue.write(chunk(10)), 'VW_ERR_CLOSED');
    assert.equal(queue.tryWrite(chunk(10)), false);
    assert.equal(queue.length, 1);
  });
});

describe('AudioQueue overflow policies', () => {
  test('drop-oldest never waits and calls onDrop once per dropped chunk, oldest first', async () => {
    const dropped: Chunk[] = [];
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100, overflow: 'drop-oldest', onDrop: (c) => dropped.push(c) });
    const [a, b, c, d] = [chunk(40), chunk(40), chunk(20), chunk(70)];
    for (const x of [a, b, c]) await queue.write(x);
    await queue.write(d);
    assert.deepEqual(dropped, [a, b]);
    assert.deepEqual([queue.tryRead(), queue.tryRead()], [c, d]);
  });

  test('drop-oldest tryWrite() always succeeds, after dropping', () => {
    let drops = 0;
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100, overflow: 'drop-oldest', onDrop: () => drops++ });
    for (let i = 0; i < 10; i++) assert.equal(queue.tryWrite(chunk(30)), true);
    assert.equal(drops, 7);
    assert.equal(queue.queuedMs, 90);
  });

  test('reject makes write() fail with VW_ERR_QUEUE_CAP and tryWrite() return false when full', async () => {
    const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 100, overflow: 'reject' });
    await queue.write(chunk(90));
    await rejectsWithCode(queue.write(chunk(20)), 'VW_ERR_QUEUE_CAP');
    assert.equal(queue.tryWrite(chunk(20)), false);
    assert.equal(queue.tryWrite(chunk(10)), true);
    assert.equal(queue.queuedMs, 100);
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────────

type SyncOp = { kind: 'write'; ms: number } | { kind: 'read' } | { kind: 'abort' };

const syncOp: fc.Arbitrary<SyncOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('write' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const) }) },
);

describe('AudioQueue properties', () => {
  for (const overflow of ['wait', 'drop-oldest', 'reject'] as const satisfies readonly OverflowPolicy[]) {
    test(`with ${overflow}, the queue never exceeds its high water mark, keeps FIFO order and loses nothing unaccounted`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 120 }), fc.array(syncOp, { maxLength: 120 }), (hwm, ops) => {
          const dropped: Chunk[] = [];
          const queue = new AudioQueue<Chunk>({ highWaterMarkMs: hwm, overflow, onDrop: (c) => dropped.push(c) });
          const model: Chunk[] = [];
          let written = 0;
          let read = 0;
          let aborted = 0;
          for (const op of ops) {
            if (op.kind === 'write') {
              if (op.ms > hwm) continue;
              const c = chunk(op.ms);
              const before = dropped.length;
              if (queue.tryWrite(c)) {
                written++;
                model.splice(0, dropped.length - before);
                model.push(c);
              }
            } else if (op.kind === 'read') {
              const c = queue.tryRead();
              assert.equal(c, model.shift());
              if (c) read++;
            } else {
              aborted += queue.length;
              assert.equal(queue.abort('test'), model.reduce((sum, c) => sum + c.durationMs, 0));
              model.length = 0;
            }
            assert.ok(queue.queuedMs <= hwm && queue.queuedMs >= 0, `queued ${queue.queuedMs} outside 0..${hwm}`);
            assert.equal(queue.length, model.length);
            assert.equal(queue.queuedMs, model.reduce((sum, c) => sum + c.durationMs, 0));
          }
          assert.equal(written, read + dropped.length + aborted + queue.length);
        }),
        { numRuns: 300 },
      );
    });
  }

  test('under any interleaving of async writers and readers, FIFO per producer and the count accounting hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
        async (s, producers, readerCount, abortAfter) => {
          const hwm = 60;
          const queue = new AudioQueue<Chunk>({ highWaterMarkMs: hwm });
          const written: Chunk[] = [];
          const reads: Chunk[] = [];
          let abortedChunks = 0;
          let rejectedWrites = 0;
          let steps = 0;
          const checkBound = (): void => assert.ok(queue.queuedMs <= hwm, `queued ${queue.queuedMs} > ${hwm}`);

          const produce = async (sizes: number[], producer: number): Promise<void> => {
            for (const ms of sizes) {
              await s.schedule(Promise.resolve(), `producer ${producer}`);
              const c = chunk(ms, producer);
              try {
                await queue.write(c);
                written.push(c);
              } catch (err) {
                if (!isVoicewireError(err, 'VW_ERR_ABORTED')) throw err;
                rejectedWrites++;
              }
              checkBound();
              if (++steps === abortAfter) {
                abortedChunks += queue.length;
                queue.abort('interleaving');
              }
            }
          };
          const consume = async (reader: number): Promise<void> => {
            for (;;) {
              await s.schedule(Promise.resolve(), `reader ${reader}`);
              try {
                const c = await queue.read();
                if (c === undefined) return;
                reads.push(c);
              } catch (err) {
                if (!isVoicewireError(err, 'VW_ERR_ABORTED')) throw err;
              }
              checkBound();
            }
          };

          let finished = false;
          const all = Promise.all([
            Promise.all(producers.map(produce)).then(() => queue.close()),
            ...Array.from({ length: readerCount }, (_, r) => consume(r)),
          ]).then(() => (finished = true));
          await s.waitIdle();
          assert.ok(finished, `a task never finished:\n${s.report().map((r) => `${r.label} ${r.status}`).join('\n')}`);
          await all;

          const total = producers.reduce((n, p) => n + p.length, 0);
          assert.equal(written.length + rejectedWrites, total);
          assert.equal(written.length, reads.length + abortedChunks + queue.length);
          assert.equal(queue.length, 0, 'readers drained the closed queue');
          if (readerCount === 1) {
            for (let p = 0; p < producers.length; p++) {
              const ids = reads.filter((c) => c.producer === p).map((c) => c.id);
              assert.deepEqual(ids, [...ids].sort((x, y) => x - y), `producer ${p} out of order`);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('with drop-oldest and concurrent producers, written = read + dropped + aborted + queued', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        async (s, producers, readerSteps) => {
          let dropped = 0;
          const queue = new AudioQueue<Chunk>({ highWaterMarkMs: 50, overflow: 'drop-oldest', onDrop: () => dropped++ });
          let written = 0;
          let read = 0;
          let aborted = 0;
          const produce = async (sizes: number[]): Promise<void> => {
            for (const ms of sizes) {
              await s.schedule(Promise.resolve());
              await queue.write(chunk(ms));
              written++;
              assert.ok(queue.queuedMs <= 50, `queued ${queue.queuedMs} > 50`);
            }
          };
          const consume = async (): Promise<void> => {
            for (const abort of readerSteps) {
              await s.schedule(Promise.resolve());
              if (abort) {
                aborted += queue.length;
                queue.abort('test');
              } else if (queue.tryRead()) {
                read++;
              }
            }
          };
          const all = Promise.all([...producers.map(produce), consume()]);
          await s.waitIdle();
          await all;
          assert.equal(written, read + dropped + aborted + queue.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
