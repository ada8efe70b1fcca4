import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession } from '../../src/session/call-session.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { silentLogger } from '../../src/server/logger.js';
import type { BargeInReport, DropReason } from '../../src/session/observer.js';
import { RecordingModel, RecordingTransport, settle } from './fakes.js';
import type { WindowChange } from '../../src/flow/window-tuner.js';

interface Harness {
  session: CallSession;
  transport: RecordingTransport;
  model: RecordingModel;
  clock: { now: number };
  bargeIns: BargeInReport[];
  drops: Array<{ reason: DropReason; ms: number }>;
  windows: WindowChange[];
}

function startCall(options: { pausable?: boolean; windowMs?: number; maxQueuedAudioMs?: number; adaptiveWindow?: boolean; sendChunkMs?: number; startCushionMs?: number | 'default' } = {}): Harness {
  const transport = new RecordingTransport();
  const model = new RecordingModel(options.pausable ?? false, TWILIO_FORMAT);
  const clock = { now: 1_000 };
  const bargeIns: BargeInReport[] = [];
  const drops: Array<{ reason: DropReason; ms: number }> = [];
  const windows: WindowChange[] = [];
  const session = new CallSession({
    transport,
    createModel: () => model,
    logger: silentLogger(),
    creditWindowMs: options.windowMs ?? 800,
    ...(options.sendChunkMs === undefined ? {} : { sendChunkMs: options.sendChunkMs }),
    // Off unless a test asks: the timelines below count sends in pieces (the start cushion has its own test).
    ...(options.startCushionMs === 'default' ? {} : { startCushionMs: options.startCushionMs ?? 0 }),
    maxQueuedAudioMs: options.maxQueuedAudioMs ?? 120_000,
    pausableQueueMs: 400,
    now: () => clock.now,
    ...(options.adaptiveWindow === undefined ? {} : { adaptiveWindow: options.adaptiveWindow }),
    observer: { bargeIn: (r) => bargeIns.push(r), dropped: (reason, ms) => drops.push({ reason, ms }), windowChanged: (c) => windows.push(c) },
  });
  transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
  return { session, transport, model, clock, bargeIns, drops, windows };
}

describe('CallSession', () => {
  test('sends model audio only up to the credit window until the caller reports playback', async () => {
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 3_000);
    await settle();
    assert.equal(h.transport.sentMs(), 800);
    h.transport.events.played(0, 200);
    await settle();
    assert.equal(h.transport.sentMs(), 1_000, 'a played report of 200 ms frees 200 ms of credit');
    h.session.end('test');
  });

  test('a lost played report heals at the next cumulative one', async () => {
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 3_000);
    await settle();
    // The report for 200 ms is "lost"; the one for 600 ms arrives.
    h.transport.events.played(0, 600);
    await settle();
    assert.equal(h.transport.sentMs(), 1_400);
    h.session.end('test');
  });

  test('CREDIT_WINDOW_MS=auto: the window follows the measured round trip and the change is reported', async () => {
    for (const adaptiveWindow of [true, false]) {
      const h = startCall({ windowMs: 800, adaptiveWindow });
      h.model.events.responseStarted('r1');
      await h.model.deliver('r1', 3_000);
      await settle();
      h.clock.now += 600;
      h.transport.events.played(0, 100); // the first echo: a 500 ms round trip
      const expected = adaptiveWindow ? [{ windowMs: 1_500, previousMs: 800, reason: 'rtt', needMs: 1_600 }] : [];
      assert.deepEqual(h.windows, expected);
      assert.equal(h.session.snapshot().windowMs, adaptiveWindow ? 1_500 : 800);
      h.session.end('test');
    }
  });

  test('sends audio in pieces of at most 100 ms', async () => {
    const h = startCall();
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 205);
    await settle();
    const durations = h.transport.calls.flatMap((c) => (c.kind === 'audio' ? [c.durationMs] : []));
    assert.deepEqual(durations, [100, 100, 5]);
    h.session.end('test');
  });

  test("by default an answer's first 300 ms go as one message (the start cushion), then pieces of 100 ms", async () => {
    const h = startCall({ startCushionMs: 'default' });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 1_000);
    await settle();
    const durations = h.transport.calls.flatMap((c) => (c.kind === 'audio' ? [c.durationMs] : []));
    assert.deepEqual(durations, [300, 100, 100, 100, 100, 100]);
    h.session.end('test');
  });

  test('a window under twice sendChunkMs gets pieces of half the window, so the caller never has to run dry first', async () => {
    const h = startCall({ windowMs: 200, sendChunkMs: 200 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 300);
    await settle();
    const durations = h.transport.calls.flatMap((c) => (c.kind === 'audio' ? [c.durationMs] : []));
    assert.deepEqual(durations, [100, 100]);
    h.transport.events.played(0, 100);
    await settle();
    assert.equal(h.transport.sentMs(), 300);
    h.session.end('test');
  });

  test('barge-in while generating: drops the queue, clears the caller, cancels and truncates at what was heard', async () => {
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 5_000, 0, 'item-1');
    await settle();
    h.clock.now += 300;
    h.transport.events.played(0, 300); // confirmed at t = 1300
    await settle();
    h.clock.now += 100; // caller speaks 100 ms after the last confirmation
    h.model.events.speechStarted();
    await settle();
    assert.deepEqual(h.transport.clears(), [1]);
    const interrupt = h.model.calls.find((c) => c.kind === 'interrupt');
    assert.deepEqual(interrupt, { kind: 'interrupt', heard: { itemId: 'item-1', audioEndMs: 400 } });
    assert.equal(h.bargeIns.length, 1);
    assert.equal(h.bargeIns[0]!.trigger, 'model');
    assert.equal(h.bargeIns[0]!.droppedMs, 5_000 - 1_100);
    // Nothing of the old response is sent after the clear, even when more of it arrives late.
    await h.model.deliver('r1', 1_000, 0, 'item-1');
    await settle();
    assert.equal(h.transport.sentMs(1), 0);
    assert.ok(h.drops.some((d) => d.reason === 'interrupted' && d.ms === 1_000));
    h.session.end('test');
  });

  test('barge-in after the model finished still clears the caller, never cancelling a finished response', async () => {
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 600, 0, 'item-1');
    h.model.events.responseDone('r1', 'completed');
    await settle();
    assert.equal(h.transport.sentMs(), 600);
    h.model.events.speechStarted();
    assert.deepEqual(h.transport.clears(), [1], 'clear is sent even though everything was already sent');
    const interrupt = h.model.calls.find((c) => c.kind === 'interrupt');
    assert.ok(interrupt && interrupt.kind === 'interrupt' && typeof interrupt.heard === 'object');
    assert.equal(interrupt.heard.itemId, 'item-1');
    h.session.end('test');
  });

  test('speech with nothing playing and nothing queued does not clear or interrupt', async () => {
    const h = startCall();
    h.model.events.speechStarted();
    await settle();
    assert.deepEqual(h.transport.clears(), []);
    assert.equal(h.model.calls.filter((c) => c.kind === 'interrupt').length, 0);
    h.session.end('test');
  });

  test('speech after the answer has fully played (every mark echoed) neither clears nor truncates', async () => {
    // Regression: a finished item was still "playing" at its last position, so taking one's turn
    // after an answer sent a clear and a truncate at the item's end.
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 600, 0, 'item-1');
    h.model.events.responseDone('r1', 'completed');
    await settle();
    h.transport.events.played(0, 600);
    h.model.events.speechStarted();
    assert.deepEqual(h.transport.clears(), []);
    assert.equal(h.model.calls.filter((c) => c.kind === 'interrupt').length, 0);
    h.session.end('test');
  });

  test('played reports from before a clear are ignored', async () => {
    const h = startCall({ windowMs: 800 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 2_000);
    await settle();
    h.model.events.speechStarted();
    h.model.events.responseStarted('r2');
    await h.model.deliver('r2', 2_000);
    await settle();
    assert.equal(h.transport.sentMs(1), 800);
    h.transport.events.played(0, 800); // Twilio flushes the old marks on clear: not "played"
    await settle();
    assert.equal(h.transport.sentMs(1), 800);
    h.transport.events.played(1, 100);
    await settle();
    assert.equal(h.transport.sentMs(1), 900);
    h.session.end('test');
  });

  test('past the queue cap the response is cancelled and its excess dropped, queued audio still plays', async () => {
    const h = startCall({ windowMs: 800, maxQueuedAudioMs: 2_000 });
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 4_000);
    await settle();
    const interrupts = h.model.calls.filter((c) => c.kind === 'interrupt');
    assert.deepEqual(interrupts, [{ kind: 'interrupt', heard: undefined }]);
    assert.ok(h.drops.some((d) => d.reason === 'queue-cap'));
    assert.deepEqual(h.transport.clears(), []);
    assert.equal(h.session.snapshot().queuedMs + h.transport.sentMs(), 2_000, 'the queue held its cap; the rest was dropped');
    h.session.end('test');
  });

  test('a pausable model is paused by a full queue instead of losing audio', async () => {
    const h = startCall({ pausable: true, windowMs: 200 });
    h.model.events.responseStarted('r1');
    let delivered = false;
    const delivery = h.model.deliver('r1', 1_000).then(() => (delivered = true));
    await settle();
    assert.equal(delivered, false, 'the producer waits while 200 ms are at the caller and 400 ms queued');
    assert.equal(h.transport.sentMs(), 200);
    assert.ok(h.session.snapshot().queuedMs <= 400 + 100, 'the queue bound plus the one piece the sender holds');
    for (const playedMs of [200, 400, 600, 800]) {
      h.transport.events.played(0, playedMs);
      await settle();
    }
    await delivery;
    assert.equal(delivered, true);
    assert.equal(h.transport.sentMs() + h.session.snapshot().queuedMs, 1_000, 'nothing lost');
    h.session.end('test');
  });

  test('sentence ends are sent in order after their audio and played-ACKs reach the model', async () => {
    const h = startCall();
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 200, 0);
    h.model.events.sentenceEnd('r1', 0);
    await h.model.deliver('r1', 200, 1);
    h.model.events.sentenceEnd('r1', 1);
    await settle();
    const order = h.transport.calls.map((c) => (c.kind === 'audio' ? `a${c.sentenceId}` : c.kind === 'sentence-end' ? `e${c.sentenceId}` : c.kind));
    assert.deepEqual(order, ['a0', 'a0', 'e0', 'a1', 'a1', 'e1']);
    h.transport.events.sentencePlayed(0, 0);
    h.transport.events.sentencePlayed(7, 1); // an epoch that does not exist yet: ignored
    assert.deepEqual(h.model.sentencesPlayed, [0]);
    h.session.end('test');
  });

  test('ending the call closes the model once and releases waiting work', async () => {
    const h = startCall({ pausable: true, windowMs: 200 });
    h.model.events.responseStarted('r1');
    const delivery = h.model.deliver('r1', 2_000);
    await settle();
    h.transport.events.closed(1000, 'bye');
    await delivery;
    await h.session.ended;
    assert.equal(h.model.calls.filter((c) => c.kind === 'close').length, 1);
    assert.equal(h.session.currentState, 'ended');
  });
});
