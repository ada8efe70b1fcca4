import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundAudio } from '../../src/session/outbound.js';
import { EpochClock } from '../../src/flow/epoch.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { RecordingTransport, settle } from './fakes.js';
import type { WindowChange } from '../../src/flow/window-tuner.js';

/** Records sends and resolves `untilSent(ms)` once that much audio has gone out (an event, not a turn count). */
class WatchedTransport extends RecordingTransport {
  private waiting: { ms: number; resolve: () => void } | undefined;
  override sendAudio(chunk: Parameters<RecordingTransport['sendAudio']>[0]): void {
    super.sendAudio(chunk);
    if (this.waiting && this.sentMs() >= this.waiting.ms) this.waiting.resolve();
  }
  untilSent(ms: number): Promise<void> {
    if (this.sentMs() >= ms) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { ms, resolve }));
  }
}

function outbound(options: { pausable?: boolean; windowMs?: number; queueMs?: number; adaptive?: { maxMs?: number }; now?: () => number; leadMs?: number } = {}) {
  const transport = new WatchedTransport();
  const epochs = new EpochClock();
  const caps: Array<{ responseId: string; droppedMs: number }> = [];
  const windows: WindowChange[] = [];
  const clock = { now: 0 };
  const out = new OutboundAudio({
    transport, format: TWILIO_FORMAT, epochs,
    windowMs: options.windowMs ?? 800, pausable: options.pausable ?? false, queueMs: options.queueMs ?? 10_000,
    sendChunkMs: 100, playoutStallMs: 60_000, now: options.now ?? (() => clock.now),
    ...(options.adaptive ? { adaptiveWindow: options.adaptive } : {}),
    ...(options.leadMs === undefined ? {} : { predictionLeadMs: options.leadMs }),
    onWindow: (change) => windows.push(change),
    onCap: (responseId, droppedMs) => caps.push({ responseId, droppedMs }), onFatal: () => assert.fail('no fatal error expected'),
  });
  void out.run();
  return { out, transport, epochs, caps, clock, windows };
}

function mockClock(t: TestContext): () => number {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  return () => Date.now();
}

const delta = (ms: number, itemId = 'item', sentenceId = 0) => ({
  responseId: 'r', itemId, sentenceId, bytes: new Uint8Array(ms * 8), durationMs: ms,
});

describe('OutboundAudio', () => {
  test('never has more than the window sent and unconfirmed, whatever the deliveries and reports', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ deliver: fc.integer({ min: 1, max: 700 }) }), fc.record({ play: fc.integer({ min: 0, max: 400 }) })), { maxLength: 30 }),
        fc.integer({ min: 200, max: 1000 }),
        async (steps, windowMs) => {
          const { out, transport } = outbound({ windowMs });
          let played = 0;
          for (const step of steps) {
            if ('deliver' in step) await out.enqueue(delta(step.deliver));
            else {
              played = Math.min(transport.sentMs(), played + step.play);
              out.played(played);
            }
            await settle(3);
            assert.ok(transport.sentMs() - played <= windowMs, `in flight ${transport.sentMs() - played} ms > window ${windowMs}`);
          }
          out.close();
        },
      ),
      { numRuns: 50 },
    );
  });

  test('dropAll reports what was heard of the playing item and drops the rest', async () => {
    const { out, transport, clock } = outbound({ windowMs: 800 });
    await out.enqueue(delta(500, 'a'));
    await out.enqueue(delta(2_000, 'b'));
    await settle();
    assert.equal(transport.sentMs(), 800);
    clock.now = 600;
    out.played(600); // all of a (500) and 100 ms of b heard
    await settle();
    const report = out.dropAll(650);
    assert.equal(report.heardMs, 650);
    assert.deepEqual(report.heard, { itemId: 'b', audioEndMs: 150 });
    assert.equal(report.droppedMs, 2_500 - 1_400);
    assert.equal(out.queuedMs, 0);
    out.close();
  });

  test('a full queue reports the cap with the part of the delivery it could not take', async () => {
    const { out, caps } = outbound({ windowMs: 200, queueMs: 1_000 });
    await out.enqueue(delta(2_000));
    assert.equal(caps.length, 1);
    assert.ok(caps[0]!.droppedMs > 0 && caps[0]!.droppedMs <= 1_000, `dropped ${caps[0]!.droppedMs}`);
    out.close();
  });

  test('with a pausable producer a sentence end waits for the pieces written before it', async () => {
    const { out, transport } = outbound({ pausable: true, windowMs: 200, queueMs: 200 });
    const first = out.enqueue(delta(500, 'x', 1));
    out.endSentence(1);
    const second = out.enqueue(delta(100, 'x', 2));
    out.endSentence(2);
    for (let played = 100; played <= 600; played += 100) {
      out.played(played);
      await settle();
    }
    await Promise.all([first, second]);
    await settle();
    const order = transport.calls.map((c) => (c.kind === 'audio' ? `a${c.sentenceId}` : c.kind === 'sentence-end' ? `e${c.sentenceId}` : c.kind));
    assert.deepEqual(order, ['a1', 'a1', 'a1', 'a1', 'a1', 'e1', 'a2', 'e2']);
    out.close();
  });

  test('counts an underrun when an item continues after the caller played everything sent, and the most held', async () => {
    const { out, transport, clock } = outbound({ windowMs: 800 });
    await out.enqueue(delta(300, 'a'));
    await settle();
    clock.now = 100;
    out.played(100);
    await out.enqueue(delta(100, 'a')); // the caller still holds 200 ms: no gap
    await settle();
    assert.equal(out.underruns, 0);
    clock.now = 500;
    out.played(400); // all played; the estimate has run dry
    await out.enqueue(delta(100, 'a')); // the same item resumes after a gap
    await settle();
    assert.equal(out.underruns, 1);
    await out.enqueue(delta(100, 'b')); // a new item after silence is not an underrun
    clock.now = 2_000;
    out.played(600);
    await out.enqueue(delta(100, 'c'));
    await settle();
    assert.equal(out.underruns, 1);
    assert.equal(out.maxBufferedMs, 300);
    assert.equal(transport.sentMs(), 700);
    out.close();
  });

  test('whenPlayedOut resolves at the played report that covers everything sent, and rejects at its deadline', async () => {
    const { out } = outbound({ windowMs: 800 });
    await out.enqueue(delta(300, 'a'));
    await settle();
    let resolved = false;
    const waiting = out.whenPlayedOut({ timeoutMs: 5_000 }).then(() => (resolved = true));
    out.played(200);
    await settle();
    assert.equal(resolved, false);
    out.played(300);
    await waiting;
    await out.enqueue(delta(100, 'a'));
    await settle();
    await assert.rejects(out.whenPlayedOut({ timeoutMs: 20 }), (err: { code?: string }) => err.code === 'VW_ERR_DEADLINE');
    out.close();
  });

  test('credit follows the predicted playout between echoes, and stops at the lead bound when echoes stop', async (t) => {
    const { out, transport } = outbound({ windowMs: 400, now: mockClock(t) });
    void out.enqueue(delta(2_000));
    await transport.untilSent(400);
    t.mock.timers.tick(300);
    out.played(100); // the first echo (100 ms played) arrives at 300
    await transport.untilSent(500); // credit 100 at once
    t.mock.timers.tick(100); // no echo: the model has the caller at 200
    await transport.untilSent(600);
    t.mock.timers.tick(5_000); // still no echo: the prediction stops at 100 + 250
    await settle();
    assert.equal(transport.sentMs(), 700); // 400 + 350 − 50 of credit left, under one 100 ms piece
    out.played(1_000); // echoes resume
    await transport.untilSent(1_100);
    out.close();
  });

  test('with a prediction lead of 0 (a browser player that drops what exceeds the window) credit comes from reports only', async (t) => {
    const { out, transport } = outbound({ windowMs: 400, now: mockClock(t), leadMs: 0 });
    void out.enqueue(delta(2_000));
    await transport.untilSent(400);
    t.mock.timers.tick(300);
    out.played(100);
    await transport.untilSent(500);
    t.mock.timers.tick(5_000);
    await settle();
    assert.equal(transport.sentMs(), 500);
    out.close();
  });

  test('adaptive: an underrun grows the window by 200 ms and reports the change', async () => {
    const { out, transport, clock, windows } = outbound({ windowMs: 800, adaptive: {} });
    await out.enqueue(delta(300, 'a'));
    await transport.untilSent(300);
    clock.now = 500;
    out.played(300); // all played; the estimate has run dry
    await out.enqueue(delta(100, 'a')); // the same item resumes after a gap
    await transport.untilSent(400);
    assert.equal(out.underruns, 1);
    assert.deepEqual(windows.map((w) => [w.previousMs, w.windowMs, w.reason]), [[800, 1_000, 'underrun']]);
    assert.equal(out.credit.windowMs, 1_000);
    out.close();
  });

  test('adaptive: a round trip past the window grows it; a fixed window never changes', async () => {
    for (const adaptive of [true, false]) {
      const { out, transport, clock, windows } = outbound({ windowMs: 400, ...(adaptive ? { adaptive: {} } : {}) });
      await out.enqueue(delta(1_000, 'a'));
      await transport.untilSent(400);
      clock.now = 600;
      out.played(100); // first echo of the answer: a 500 ms round trip → need 500 + 1 000 + 100
      assert.deepEqual(windows.map((w) => [w.windowMs, w.reason]), adaptive ? [[1_500, 'rtt']] : []);
      assert.equal(out.credit.windowMs, adaptive ? 1_500 : 400);
      out.close();
    }
  });

  test("adaptive: a browser's capacity caps the window", async () => {
    const { out, transport, clock } = outbound({ windowMs: 600, adaptive: { maxMs: 600 } });
    await out.enqueue(delta(1_000, 'a'));
    await transport.untilSent(600);
    clock.now = 2_000;
    out.played(100);
    assert.equal(out.credit.windowMs, 600);
    out.close();
  });
});
