/**
 * HttpEventSink against a recording endpoint: JSON arrays in order, retries with doubling backoff,
 * every drop counted by reason, and `push` never waiting whatever the endpoint does.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { performance } from 'node:perf_hooks';
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
    await server.until(() => server.requests.length === 1, 'the first batch');
    const queueFull = drops.filter(([reason]) => reason === 'queue-full').reduce((n, [, c]) => n + c, 0);
    // 1000 pushed in one turn of the loop into a queue of 100: 900 dropped; the hanging POST holds
    // the oldest event (one call's events per POST, and the calls alternate), 99 wait behind it.
    assert.equal(queueFull, 900);
    assert.equal(jsonOf<CallEvent[]>(server.requests[0]!).length, 1);
    assert.equal(s.queued, 99);
    console.log(`# events sink, endpoint never answers: 1000 pushes in ${pushMs.toFixed(2)} ms, ${queueFull} dropped (queue-full), 100 held`);
    s.close();
    await s.flush(1_000);
    assert.equal(s.dropped, 1_000, 'the queued events and the batch in flight at close are counted too');
  });

  test('one POST holds one call\'s events: batches end where the queue switches calls, order kept', async () => {
    const server = await endpoint(() => ({ status: 204 }));
    const { s } = sink(server.url('/events'), { batchSize: 3 });
    const pushed = [event('CA1', 1), event('CA1', 2), event('CA2', 1), event('CA1', 3), event('CA1', 4), event('CA1', 5), event('CA1', 6)];
    for (const e of pushed) s.push(e);
    await s.flush(2_000);
    const batches = server.requests.map((r) => jsonOf<CallEvent[]>(r).map((e) => `${e.callId}#${e.seq}`));
    assert.deepEqual(batches, [['CA1#1', 'CA1#2'], ['CA2#1'], ['CA1#3', 'CA1#4', 'CA1#5'], ['CA1#6']]);
    assert.equal(s.delivered, 7);
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
    assert.deepEqual(server.requests.map((r) => [jsonOf<CallEvent[]>(r)[0]!.callId, r.headers.traceparent]), [
      ['CA-traced', `00-${ids.trace_id}-${ids.span_id}-01`],
      ['CA-plain', undefined],
    ]);
  });
});
