/**
 * Issue 10, end to end: call events to EVENTS_URL. A recording endpoint sees every event of a
 * call in order, with the agent's words split at what the caller heard after a barge-in; an
 * endpoint that never answers costs events (counted) and nothing else: 20 concurrent calls keep
 * their flow bounds.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples, type FakeTwilioCaller } from '../fakes/twilio-caller.js';
import { FakeHttpEndpoint, jsonOf } from '../fakes/http-endpoint.js';
import type { CallEvent, CallEventOf } from '../../src/agent/events.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
/** 60 words of equal length: the share of words heard is the share of characters heard. */
const WORDS = Array.from({ length: 60 }, (_, i) => `word${String(i).padStart(2, '0')}`);

function underrunsWhileSpeaking(caller: FakeTwilioCaller): number {
  const last = caller.received.toArray().filter((r) => r.event === 'media').at(-1)?.at ?? 0;
  return caller.underruns.filter((u) => u.start < last).length;
}

describe('call events through the gateway', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  const endpoints: FakeHttpEndpoint[] = [];
  after(async () => {
    for (const r of running) await r.close();
    for (const e of endpoints) await e.close();
  });

  test('events arrive in order, one call, with the heard/unheard split after a barge-in', async () => {
    const sink = await FakeHttpEndpoint.start(() => ({ status: 200 }));
    endpoints.push(sink);
    const r = await startGateway(
      { EVENTS_URL: sink.url('/events'), TRANSCRIBE_MODEL: 'gpt-4o-mini-transcribe' },
      { answerMs: 6_000, speedFactor: 5, detectionDelayMs: 100, interruptResponse: false, transcript: WORDS.join(' '), callerTranscript: 'tell me everything' },
    );
    running.push(r);
    const caller = await r.call({ customParameters: { From: '+15550001111', To: '+15550002222' } });
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 2_000, 10_000, 'two seconds of the answer');
    await caller.sendSpeech(toneSamples(600));
    await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'the clear');
    await caller.stop();
    const received = (): CallEvent[] => sink.requests.flatMap((req) => jsonOf<CallEvent[]>(req));
    await sink.until(() => received().some((e) => e.type === 'call.ended'), 'call.ended', 5_000);
    const events = received();

    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq 1..n, no gap, in order');
    assert.ok(events.every((e) => e.callId === caller.callSid));
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 4), ['call.started', 'call.setup', 'transcript.caller', 'barge_in']);
    assert.equal(types.at(-1), 'call.ended');
    const bargeIn = events.find((e): e is CallEventOf<'barge_in'> => e.type === 'barge_in')!;
    const cut = events.find((e): e is CallEventOf<'transcript.agent'> => e.type === 'transcript.agent')!;
    assert.equal(types.indexOf('transcript.agent'), 4, 'the cut answer right after the barge-in');
    assert.equal(cut.interrupted, true);
    assert.equal(cut.heardMs, bargeIn.heardMs);
    const heardWords = cut.text.split(' ').length;
    const expectedWords = (WORDS.length * bargeIn.heardMs) / 6_000;
    console.log(`# events: ${events.length} in order; barge-in heard ${bargeIn.heardMs} ms (caller played ${caller.playedMs.toFixed(0)} ms), dropped ${bargeIn.droppedMs} ms; agent text heard ${heardWords} of ${WORDS.length} words (expected ≈ ${expectedWords.toFixed(1)})`);
    assert.ok(Math.abs(bargeIn.heardMs - 2_000) <= 200, `heard ${bargeIn.heardMs} ms at a barge-in after ~2 s`);
    assert.ok(Math.abs(heardWords - expectedWords) <= 1, `heard words ${heardWords} vs ${expectedWords}`);
    assert.equal(`${cut.text} ${cut.unheard}`, WORDS.join(' '), 'heard + unheard is the whole answer');
    const callerText = events.find((e): e is CallEventOf<'transcript.caller'> => e.type === 'transcript.caller')!;
    assert.equal(callerText.text, 'tell me everything');
    const ended = events.at(-1) as CallEventOf<'call.ended'>;
    assert.equal(ended.bargeIns, 1);
    assert.equal(ended.underruns, underrunsWhileSpeaking(caller), `the gateway's underrun count ${ended.underruns} matches the caller's`);
    assert.ok(ended.turns >= 1 && ended.maxBufferedMs <= WINDOW_MS + FRAME_MS && ended.maxBufferedMs >= WINDOW_MS - 4 * FRAME_MS, JSON.stringify(ended));
    const started = events[0] as CallEventOf<'call.started'>;
    assert.deepEqual([started.transport, started.from, started.to], ['twilio', '+15550001111', '+15550002222']);
  });

  test('an events endpoint that never answers does not change the flow bounds of 20 concurrent calls', async () => {
    const sink = await FakeHttpEndpoint.start(() => 'hang');
    endpoints.push(sink);
    const r = await startGateway(
      { EVENTS_URL: sink.url('/events') },
      { answerMs: 3_000, speedFactor: 5, detectionDelayMs: 100 },
      { eventsSink: { maxQueued: 40, batchSize: 10, timeoutMs: 500, maxAttempts: 2, backoffMs: 100 } },
    );
    running.push(r);
    const callers = await Promise.all(Array.from({ length: 20 }, () => r.call()));
    await Promise.all(callers.map((c) => c.sendSpeech(toneSamples(400))));
    await Promise.all(callers.map((c) => c.waitUntil(() => c.playedMs >= 3_000, 20_000, 'the whole answer')));
    const maxBuffered = Math.max(...callers.map((c) => c.maxBufferedMs));
    const underruns = callers.reduce((n, c) => n + underrunsWhileSpeaking(c), 0);
    await Promise.all(callers.map((c) => c.stop()));
    const metrics = r.gateway.context.metrics;
    await r.gateway.close();
    const delivered = (await metrics.eventsDelivered.get()).values.reduce((n, v) => n + v.value, 0);
    const dropped = Object.fromEntries((await metrics.eventsDropped.get()).values.map((v) => [v.labels.reason, v.value]));
    console.log(`# dead events endpoint, 20 calls: max buffered at any caller ${maxBuffered} ms (window ${WINDOW_MS}), underruns while speaking ${underruns}; events delivered ${delivered}, dropped ${JSON.stringify(dropped)}, POSTs attempted ${sink.requests.length}`);
    assert.ok(maxBuffered <= WINDOW_MS + FRAME_MS, `caller buffered ${maxBuffered} ms`);
    assert.equal(underruns, 0);
    for (const c of callers) assert.deepEqual(c.violations.toArray(), []);
    assert.equal(delivered, 0);
    // 20 calls × (started, setup, agent transcript, ended) = 80 events, every one accounted for.
    assert.equal((dropped['queue-full'] ?? 0) + (dropped.undeliverable ?? 0), 80);
    assert.ok((dropped['queue-full'] ?? 0) > 0, 'the queue bound was reached');
  });
});
