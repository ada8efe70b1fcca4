/**
 * HttpEventSink against a recording endpoint: JSON arrays in order, one call per POST, a round's
 * calls sent concurrently, retries with doubling backoff, every drop counted by reason, and `push`
 * never waiting whatever the endpoint does.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { HttpEventSink } from '../../src/agent/http-event-sink.js';
import type { CallEvent } from '../../src/agent/events.js';
import { callTraces } from '../../src/telemetry/log-correlation.js';
import { FakeHttpEndpoint, jsonOf, type Handler } from '../fakes/http-endpoint.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function endpoint(handler: Handler): Promise<FakeHttpEndpoint> {
  const server = await FakeHttpEndpoint.start(handler);
  closers.push(() => server.close());
  return server;
}

function sink(url: string, options: Partial<ConstructorParameters<typeof HttpEventSink>[0]> = {}) {
  const drops: Array<[string, number]> = [];
  const s = new HttpEventSink({ url, backoffMs: 20, timeoutMs: 500, onDropped: (reason, count) => drops.push([reason, count]), ...options });
  closers.push(() => s.close());
  return { s, drops };
}

function event(callId: string, seq: number): CallEvent {
  return { type: 'barge_in', callId, seq, at: '2026-12-04T00:00:00.000Z', heardMs: seq, droppedMs: 0 };
}

describe('HttpEventSink', () => {
  test('delivers JSON arrays in push order, batched', async () => {
    const server = await endpoint(() => ({ status: 204 }));
    const { s } = sink(server.url('/events'), { batchSize: 3 });
    for (let i = 1; i <= 7; i++) s.push(event('CA1', i));
    await s.flush(2_000);
    const batches = server.requests.map((r) => jsonOf<CallEvent[]>(r));
    assert.deepEqual(batches.flat().map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(batches.every((b) => b.length <= 3));
    assert.equal(s.delivered, 7);
  });

  test('a failing batch is retried with doubling backoff, then delivered; order kept', async () => {
    let calls = 0;
    const server = await endpoint(() => (++calls <= 2 ? { status: 503 } : { status: 200 }));
    const { s, drops } = sink(server.url('/events'));
    s.push(event('CA1', 1));
    s.push(event('CA1', 2));
    await s.flush(3_000);
    const at = server.requests.map((r) => r.at);
    assert.equal(at.length, 3);
    assert.ok(at[1]! - at[0]! >= 18 && at[2]! - at[1]! >= 38, `backoff ${at[1]! - at[0]!}, ${at[2]! - at[1]!} ms`);
    assert.deepEqual(jsonOf<CallEvent[]>(server.requests[2]!).map((e) => e.seq), [1, 2]);
    assert.deepEqual(drops, []);
  });

  test('a batch that fails every attempt is dropped and counted as undeliverable', async () => {
    const server = await endpoint(() => ({ status: 500 }));
    const { s, drops } = sink(server.url('/events'), { maxAttempts: 3 });
    s.push(event('CA1', 1));
    await s.flush(3_000);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(drops, [['undeliverable', 1]]);
    assert.equal(s.dropped, 1);
  });

  test('an endpoint that never answers: push stays O(1), the queue stays bounded, the oldest are dropped', async () => {
    const server = await endpoint(() => 'hang');
    const { s, drops } = sink(server.url('/events'), { maxQueued: 100, timeoutMs: 10_000 });
    const startedAt = performance.now();
    for (let i = 1; i <= 1_000; i++) s.push(event(`CA${i % 20}`, i));
    const pushMs = performance.now() - startedAt;
    // 1000 pushed in one turn of the loop into a queue of 100: 900 dropped; the stuck round takes
    // the other 100 (the default batchSize), 5 for each of the 20 calls, one hanging POST per call.
    await server.until(() => server.requests.length === 20, 'the round\'s 20 POSTs');
    const queueFull = () => drops.filter(([reason]) => reason === 'queue-full').reduce((n, [, c]) => n + c, 0);
    const droppedFirst = queueFull();
    assert.equal(droppedFirst, 900);
    assert.equal(s.queued, 0);
    const held = server.requests.map((r) => jsonOf<CallEvent[]>(r));
    assert.deepEqual(held.map((b) => b.length), Array<number>(20).fill(5));
    assert.equal(new Set(held.map((b) => b[0]!.callId)).size, 20);
    assert.ok(held.every((b) => b.every((e) => e.callId === b[0]!.callId)));
    // While the round is stuck the queue still holds at most 100: 150 more pushes drop 50.
    for (let i = 1_001; i <= 1_150; i++) s.push(event(`CA${i % 20}`, i));
    assert.equal(queueFull(), 950);
    assert.equal(s.queued, 100);
    assert.equal(server.requests.length, 20, 'no round starts while one is stuck');
    console.log(`# events sink, endpoint never answers: 1000 pushes in ${pushMs.toFixed(2)} ms, ${droppedFirst} dropped (queue-full), 20 POSTs x 5 events in flight; +150 pushes: ${queueFull() - droppedFirst} more dropped, 100 queued`);
    s.close();
    await s.flush(1_000);
    assert.equal(s.dropped, 1_150, 'the queued events and the round in flight at close are counted too');
    assert.deepEqual(drops.filter(([reason]) => reason === 'undeliverable').sort(), [['undeliverable', 100], ...Array<[string, number]>(20).fill(['undeliverable', 5])]);
  });

  test('a round is split into one POST per call, each call\'s events in order; rounds follow each other', async () => {
    const server = await endpoint(() => ({ status: 204 }));
    const { s } = sink(server.url('/events'), { batchSize: 3 });
    const pushed = [event('CA1', 1), event('CA1', 2), event('CA2', 1), event('CA1', 3), event('CA1', 4), event('CA1', 5), event('CA1', 6)];
    for (const e of pushed) s.push(e);
    await s.flush(2_000);
    const batches = server.requests.map((r) => jsonOf<CallEvent[]>(r).map((e) => `${e.callId}#${e.seq}`));
    // Round 1 (CA1#1, CA1#2, CA2#1) is two concurrent POSTs in either order; then rounds 2 and 3.
    assert.deepEqual([...batches.slice(0, 2)].sort(), [['CA1#1', 'CA1#2'], ['CA2#1']]);
    assert.deepEqual(batches.slice(2), [['CA1#3', 'CA1#4', 'CA1#5'], ['CA1#6']]);
    assert.equal(s.delivered, 7);
  });

  test('the events of N interleaved calls in one round go out as N concurrent POSTs, each with its call\'s traceparent', async () => {
    const calls = ['CA0', 'CA1', 'CA2', 'CA3', 'CA4'];
    const traceparents = new Map(calls.map((c, i) => [c, { trace_id: `${i}`.repeat(32), span_id: `${i + 1}`.repeat(16) }]));
    for (const [c, ids] of traceparents) callTraces.set(c, ids);
    closers.push(() => { for (const c of calls) callTraces.delete(c); });
    let open!: () => void;
    const barrier = new Promise<void>((resolve) => (open = resolve));
    // No POST is answered before the barrier opens, so all N must be in flight at once to pass it.
    const server = await endpoint(() => barrier.then(() => ({ status: 204 })));
    const { s, drops } = sink(server.url('/events'));
    for (let seq = 1; seq <= 3; seq++) for (const c of calls) s.push(event(c, seq));
    await server.until(() => server.requests.length === calls.length, 'a POST per call in flight');
    assert.equal(s.delivered, 0);
    assert.equal(s.queued, 0);
    open();
    await s.flush(2_000);
    assert.equal(server.requests.length, calls.length);
    const byCall = new Map(server.requests.map((r) => [jsonOf<CallEvent[]>(r)[0]!.callId, r]));
    for (const [c, ids] of traceparents) {
      const r = byCall.get(c)!;
      assert.deepEqual(jsonOf<CallEvent[]>(r).map((e) => `${e.callId}#${e.seq}`), [`${c}#1`, `${c}#2`, `${c}#3`]);
      assert.equal(r.headers.traceparent, `00-${ids.trace_id}-${ids.span_id}-01`);
    }
    assert.equal(s.delivered, 15);
    assert.deepEqual(drops, []);
  });

  test('round 2 of a call never overtakes its round 1, even answered in reverse order with one group failing once', async () => {
    let open!: () => void;
    const round1Arrived = new Promise<void>((resolve) => (open = resolve));
    let ca2Answered!: () => void;
    const ca2Done = new Promise<void>((resolve) => (ca2Answered = resolve));
    let ca1Tries = 0;
    const server = await endpoint((request) => {
      const [first] = jsonOf<CallEvent[]>(request);
      if (first!.seq !== 1) return { status: 204 }; // round 2
      if (server.requests.length >= 2) open();
      if (first!.callId === 'CA2') return round1Arrived.then(() => { ca2Answered(); return { status: 204 }; });
      // CA1's round-1 POST is answered after CA2's, with a 503 the first time: it is retried.
      return ++ca1Tries === 1 ? round1Arrived.then(() => ca2Done).then(() => ({ status: 503 })) : { status: 204 };
    });
    const { s, drops } = sink(server.url('/events'), { batchSize: 4 });
    for (const seq of [1, 2, 3]) for (const c of ['CA1', 'CA2']) s.push(event(c, seq));
    await s.flush(3_000);
    const posts = server.requests.map((r) => jsonOf<CallEvent[]>(r).map((e) => `${e.callId}#${e.seq}`));
    assert.deepEqual([...posts.slice(0, 2)].sort(), [['CA1#1', 'CA1#2'], ['CA2#1', 'CA2#2']]);
    assert.deepEqual(posts[2], ['CA1#1', 'CA1#2'], 'the retry comes before any of round 2');
    assert.deepEqual([...posts.slice(3)].sort(), [['CA1#3'], ['CA2#3']]);
    assert.equal(s.delivered, 6);
    assert.deepEqual(drops, []);
  });

  test('property: for any interleaving of calls and per-POST failures below maxAttempts, each call\'s events arrive exactly once, in order', async () => {
    const maxAttempts = 3;
    const server = await endpoint(() => ({ status: 204 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('CA1', 'CA2', 'CA3', 'CA4'), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        async (order, batchSize, failures) => {
          const tries = new Map<string, number>();
          const received = new Map<string, number[]>();
          const callsPerPost: number[] = [];
          let posts = 0;
          server.handler = (request) => {
            const batch = jsonOf<CallEvent[]>(request);
            const failed = tries.get(request.body) ?? 0;
            // A random failure, but never the last attempt: every POST is delivered in the end.
            if (failures[posts++ % failures.length]! && failed < maxAttempts - 1) {
              tries.set(request.body, failed + 1);
              return { status: 503 };
            }
            callsPerPost.push(new Set(batch.map((e) => e.callId)).size);
            const seqs = received.get(batch[0]!.callId) ?? [];
            received.set(batch[0]!.callId, [...seqs, ...batch.map((e) => e.seq)]);
            return { status: 204 };
          };
          const s = new HttpEventSink({ url: server.url('/events'), batchSize, maxAttempts, backoffMs: 1, timeoutMs: 2_000 });
          const expected = new Map<string, number[]>();
          order.forEach((c, i) => {
            s.push(event(c, i + 1));
            expected.set(c, [...(expected.get(c) ?? []), i + 1]);
          });
          await s.flush(5_000);
          s.close();
          assert.deepEqual(received, expected);
          assert.ok(callsPerPost.every((n) => n === 1), 'one call per POST');
          assert.equal(s.delivered, order.length);
          assert.equal(s.dropped, 0);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a traced call\'s POST carries its traceparent, taken at push (the ids may be gone before it is sent)', async () => {
    const server = await endpoint(() => ({ status: 204 }));
    const { s } = sink(server.url('/events'));
    const ids = { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' };
    callTraces.set('CA-traced', ids);
    s.push(event('CA-traced', 1));
    callTraces.delete('CA-traced'); // the call ended before the sender ran
    s.push(event('CA-plain', 1));
    await s.flush(2_000);
    // One round, two concurrent POSTs: either may arrive first.
    assert.deepEqual(server.requests.map((r) => [jsonOf<CallEvent[]>(r)[0]!.callId, r.headers.traceparent]).sort(), [
      ['CA-plain', undefined],
      ['CA-traced', `00-${ids.trace_id}-${ids.span_id}-01`],
    ]);
  });
});
