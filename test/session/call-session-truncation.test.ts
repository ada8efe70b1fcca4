/**
 * Exact truncation at barge-in (session/truncation.ts): the model's answer is cancelled at once,
 * and truncated at what had played when the `clear` reached the caller — known when the marker
 * behind the clear comes back (played of the new epoch), evaluated on the interrupted epoch's
 * frozen timeline at that echo's arrival. Synthetic echo timings give exact expected points.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession } from '../../src/session/call-session.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { HEARD_PENDING } from '../../src/models/model.js';
import { silentLogger } from '../../src/server/logger.js';
import type { BargeInReport } from '../../src/session/observer.js';
import { heardAt } from '../../src/session/truncation.js';
import { PlayoutTracker } from '../../src/flow/playout-tracker.js';
import { HearingModel, RecordingTransport, settle, type ModelCall } from './fakes.js';

function startCall(truncateDeadlineMs = 3_000) {
  const transport = new RecordingTransport();
  const model = new HearingModel(false, TWILIO_FORMAT);
  const clock = { now: 1_000 };
  const bargeIns: BargeInReport[] = [];
  let reported: () => void = () => undefined;
  const nextReport = (): Promise<void> => new Promise((resolve) => (reported = resolve));
  const session = new CallSession({
    transport,
    createModel: () => model,
    logger: silentLogger(),
    creditWindowMs: 800,
    // 100 ms pieces: the timelines below free credit in 100 ms steps (300 ms confirmed → 3 pieces).
    sendChunkMs: 100,
    startCushionMs: 0,
    maxQueuedAudioMs: 120_000,
    truncateDeadlineMs,
    now: () => clock.now,
    observer: { bargeIn: (r) => (bargeIns.push(r), reported()) },
  });
  transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
  return { session, transport, model, clock, bargeIns, nextReport };
}

/** `ms` of caller audio in 20 ms frames (the caller streams continuously, like every carrier). */
function callerAudio(h: ReturnType<typeof startCall>, ms: number): void {
  for (let sent = 0; sent < ms; sent += 20) h.transport.events.audio(new Uint8Array(160), 20);
}

/** The truncation points the model was given. */
function heardCalls(h: ReturnType<typeof startCall>): ModelCall[] {
  return h.model.calls.filter((c) => c.kind === 'heard');
}

/**
 * An answer of 5 s: 800 ms sent at t = 1000, 300 ms confirmed at t = 1300 (1 100 ms sent by then;
 * the echo left the caller after `callerAudioMs` of its own audio); barge-in at t = 1400.
 */
async function bargeInDuringAnswer(h: ReturnType<typeof startCall>, callerAudioMs = 0): Promise<void> {
  h.model.events.responseStarted('r1');
  await h.model.deliver('r1', 5_000, 0, 'item-1');
  await settle();
  callerAudio(h, callerAudioMs);
  h.clock.now = 1_300;
  h.transport.events.played(0, 300);
  await settle();
  assert.equal(h.transport.sentMs(0), 1_100);
  h.clock.now = 1_400;
  h.model.events.speechStarted();
  await settle();
}

describe('CallSession: exact truncation at barge-in', () => {
  test('cancels at once, truncates when the marker behind the clear comes back, at the old timeline evaluated then', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    assert.deepEqual(h.transport.clears(), [1]);
    assert.deepEqual(h.model.calls.filter((c) => c.kind !== 'append'), [{ kind: 'interrupt', heard: HEARD_PENDING }]);
    assert.equal(h.bargeIns.length, 0, 'reported once settled');
    // A late echo of the old epoch (sent before the clear) neither settles nor moves anything.
    h.clock.now = 1_500;
    h.transport.events.played(0, 400);
    assert.equal(h.bargeIns.length, 0);
    // The marker comes back 250 ms after the barge-in: 300 ms confirmed at 1300, plus 350 ms.
    h.clock.now = 1_650;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 650 } }]);
    const { droppedMs, ...report } = h.bargeIns[0]!;
    assert.deepEqual(report, {
      trigger: 'model', heardMs: 650, truncateUncertaintyMs: 350, truncateSource: 'marker', estimateAtBargeInMs: 400, settledAfterMs: 250,
      truncate: { itemId: 'item-1', audioEndMs: 650 }, epoch: 1,
    });
    assert.equal(droppedMs, 5_000 - 1_100);
    h.session.end('test');
  });

  test('the point never passes what was sent before the clear (the caller ran dry, then the clear arrived)', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    h.clock.now = 2_900; // 300 + 1600 would be 1900: only 1100 ms were ever sent
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 1_100 } }]);
    assert.equal(h.bargeIns[0]!.truncateSource, 'marker');
    h.session.end('test');
  });

  test('no confirmation within the deadline: truncated at the estimate of that moment, reported as deadline', async () => {
    const h = startCall(30);
    await bargeInDuringAnswer(h);
    const reported = h.nextReport();
    h.clock.now = 1_900;
    await reported;
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 900 } }]);
    assert.equal(h.bargeIns[0]!.truncateSource, 'deadline');
    assert.equal(h.bargeIns[0]!.settledAfterMs, 500);
    // The marker arriving later changes nothing.
    h.transport.events.played(1, 0);
    assert.equal(heardCalls(h).length, 1);
    h.session.end('test');
  });

  test("the next answer's audio settles it first (superseded), before any of that audio is sent", async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    h.clock.now = 1_500;
    h.model.events.responseStarted('r2');
    await h.model.deliver('r2', 200, 0, 'item-2');
    await settle();
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 500 } }]);
    assert.equal(h.bargeIns[0]!.truncateSource, 'superseded');
    assert.equal(h.transport.sentMs(1), 200);
    h.session.end('test');
  });

  test('a second barge-in before the first is confirmed settles the first at that moment', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    h.clock.now = 1_450;
    h.model.events.responseStarted('r2');
    h.clock.now = 1_460;
    h.model.events.speechStarted();
    assert.deepEqual(h.bargeIns.map((b) => [b.truncateSource, b.heardMs, b.epoch]), [['superseded', 460, 1], ['nothing-sent', 0, 2]]);
    h.session.end('test');
  });

  test('the call ending while it waits: nothing is sent to the closed model and no timer is left', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    h.session.end('test');
    h.transport.events.played(1, 0);
    assert.equal(heardCalls(h).length, 0);
    assert.equal(h.bargeIns.length, 0);
  });
});

describe('CallSession: the time between the echoes is read on the caller\'s clock', () => {
  test('an uplink stall that delays the marker echo does not move the point: caller audio dates both echoes', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h, 300); // the echo at 1300 was sent after 300 ms of the caller's audio
    // The caller sent the marker's echo 340 ms (of its audio) after the last echo; a lost segment
    // held all of it, so it arrives at 1900 instead of 1640.
    callerAudio(h, 340);
    h.clock.now = 1_900;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 640 } }]);
    assert.equal(h.bargeIns[0]!.truncateSource, 'marker');
    h.session.end('test');
  });

  test('an uplink stall longer than the time since the last echo: the caller streamed before the barge-in, so its clock still dates the clear', async () => {
    const h = startCall(); // the call started at t = 1000
    await bargeInDuringAnswer(h, 300); // 300 ms of caller audio in the call's first 300 ms: it streams
    // The clear arrived 140 ms (of the caller's audio) after that echo; a lost segment held the
    // marker's echo until 1900: 140 ms of audio in 600 ms of wall time since the echo.
    callerAudio(h, 140);
    h.clock.now = 1_900;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 440 } }]);
    h.session.end('test');
  });

  test('echoes that crossed the clear: one played before it arrived is the anchor, the ones it flushed cap the point', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h, 300);
    // The caller ran dry for 200 ms after 300, played on, and echoed the mark at 500 at its 700 ms
    // (the echo crossed the clear). The clear arrived at its 760 ms: the marks at 600 and 700
    // were flushed, echoed with the confirmation.
    callerAudio(h, 400);
    h.transport.events.echoAfterClear!(0, 500);
    callerAudio(h, 60);
    h.transport.events.echoAfterClear!(0, 600);
    h.transport.events.echoAfterClear!(0, 700);
    h.clock.now = 1_900;
    h.transport.events.played(1, 0);
    // Without the late echoes: 300 + 460 = 760.
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 560 } }]);
    h.session.end('test');
  });

  test('the marker held up behind the clear: the flush burst dates the clear\'s arrival, not the late confirmation', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h, 300);
    // The clear arrived at the caller's 760 ms and flushed the marks at 800 and 1000 (one burst);
    // the marker behind it arrived 140 ms later (a lost segment between them).
    callerAudio(h, 460);
    h.transport.events.echoAfterClear!(0, 800);
    h.transport.events.echoAfterClear!(0, 1_000);
    callerAudio(h, 140);
    h.clock.now = 2_000;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 760 } }]);
    h.session.end('test');
  });

  /** Anchor at 300; the mark at 400 plays at the caller's 400; the clear arrives at its 447 (frames: 440) and flushes 500 and 600. */
  async function playedMarkThenClear(h: ReturnType<typeof startCall>, echoedLate: boolean): Promise<void> {
    await bargeInDuringAnswer(h, 300);
    if (echoedLate) {
      // The caller's loop stalled: the echo of 400 left with the frames due since and the flush (series 4's −47 / −40 ms).
      callerAudio(h, 140);
    } else {
      callerAudio(h, 100);
      h.transport.events.echoAfterClear!(0, 400);
      callerAudio(h, 40);
    }
    h.clock.now = 1_440;
    if (echoedLate) h.transport.events.echoAfterClear!(0, 400);
    h.transport.events.echoAfterClear!(0, 500);
    h.transport.events.echoAfterClear!(0, 600);
    h.transport.events.played(1, 0);
  }

  test('a played mark echoed a frame or more before the flush is an anchor: the point is exact to the frame', async () => {
    const h = startCall();
    await playedMarkThenClear(h, false);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 440 } }]);
    h.session.end('test');
  });

  test('a played mark echoed in the flush burst looks flushed and caps the point (the caller\'s lateness is the error)', async () => {
    // Indistinguishable from a caller that ran dry before 400 (see the next test): the cap is the
    // safe side. The fake caller no longer does this (paced-caller.ts sends the frames due before
    // a mark played ahead of its echo), a carrier's real-time media clock never did.
    const h = startCall();
    await playedMarkThenClear(h, true);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 400 } }]);
    h.session.end('test');
  });

  test('a flushed mark caps the point when no echo crossed the clear', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h, 300);
    callerAudio(h, 460);
    h.transport.events.echoAfterClear!(0, 500);
    h.clock.now = 1_900;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 500 } }]);
    h.session.end('test');
  });

  test('when the wall clock agrees with the caller\'s to a frame, its finer reading is used', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h, 300);
    callerAudio(h, 360); // 18 frames; 355 ms of wall time
    h.clock.now = 1_655;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 655 } }]);
    h.session.end('test');
  });

  test('a caller whose audio covers less than half the wall time between the echoes: the wall clock is used', async () => {
    const h = startCall();
    await bargeInDuringAnswer(h);
    callerAudio(h, 200); // 200 ms of audio in 500 ms of wall time
    h.clock.now = 1_800;
    h.transport.events.played(1, 0);
    assert.deepEqual(heardCalls(h), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 800 } }]);
    h.session.end('test');
  });
});

describe('heardAt', () => {
  test('last echo position plus the time from its arrival to the marker echo, capped at what was sent, per item', () => {
    const tracker = new PlayoutTracker();
    tracker.sent('a', 500, 0);
    tracker.sent('b', 700, 100);
    tracker.confirm(200, 300);
    tracker.confirm(400, 500);
    const frozen = tracker.freeze();
    tracker.reset(); // the live tracker moves on to the new epoch; the frozen copy does not
    tracker.sent('c', 100, 600);
    assert.deepEqual(heardAt(frozen, 620), { heardMs: 520, confirmedMs: 400, heard: { itemId: 'b', audioEndMs: 20 } });
    assert.deepEqual(heardAt(frozen, 590), { heardMs: 490, confirmedMs: 400, heard: { itemId: 'a', audioEndMs: 490 } });
    assert.deepEqual(heardAt(frozen, 5_000), { heardMs: 1_200, confirmedMs: 400, heard: { itemId: 'b', audioEndMs: 700 } });
  });
});
