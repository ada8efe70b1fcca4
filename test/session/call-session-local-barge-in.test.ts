/**
 * Local barge-in (`localBargeInMs`): the gateway's own VAD on the caller's audio clears the caller
 * as soon as it hears that much speech, and holds the answer until the model hears the caller too.
 * The model's speech start makes it a barge-in (drop, cancel, truncate at what was heard); none
 * within the hold is a false start, and the answer goes on from what the caller heard.
 */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession } from '../../src/session/call-session.js';
import { DEFAULT_LOCAL_BARGE_IN_HOLD_MS } from '../../src/session/call-session-options.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { MULAW_SILENCE } from '../../src/audio/mulaw.js';
import { HEARD_PENDING } from '../../src/models/model.js';
import { silentLogger } from '../../src/server/logger.js';
import type { BargeInReport } from '../../src/session/observer.js';
import { toneMulaw } from '../fakes/twilio-caller.js';
import { HearingModel, RecordingTransport } from './fakes.js';

const SILENT_FRAME = new Uint8Array(160).fill(MULAW_SILENCE);
const TONE = toneMulaw(200);
const HOLD_MS = DEFAULT_LOCAL_BARGE_IN_HOLD_MS;

/** 3 s of answer whose every byte tells where it was (a pseudo-random sequence: no two offsets look alike). */
const ANSWER = (() => {
  const bytes = new Uint8Array(3_000 * 8);
  let x = 12345;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
})();

function startCall(localBargeInMs: number | undefined, localBargeInHoldMs?: number) {
  const transport = new RecordingTransport();
  const model = new HearingModel(false, TWILIO_FORMAT);
  const bargeIns: BargeInReport[] = [];
  const localBargeIns: boolean[] = [];
  /** The barge-in's observer events in order (what the tracer and the metrics see). */
  const observed: string[] = [];
  const clock = { ms: 0 };
  const session = new CallSession({
    transport,
    createModel: () => model,
    logger: silentLogger(),
    creditWindowMs: 800,
    startCushionMs: 0,
    maxQueuedAudioMs: 120_000,
    now: () => clock.ms,
    ...(localBargeInMs === undefined ? {} : { localBargeInMs }),
    ...(localBargeInHoldMs === undefined ? {} : { localBargeInHoldMs }),
    observer: {
      bargeIn: (r) => (bargeIns.push(r), observed.push('bargeIn')),
      bargeInStarted: (epoch) => observed.push(`bargeInStarted ${epoch}`),
      silenced: (r) => observed.push(`silenced ${r.epoch} ${r.clearToSilenceMs}`),
      localBargeIn: (confirmed) => localBargeIns.push(confirmed),
    },
  });
  transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
  return { session, transport, model, bargeIns, localBargeIns, observed, clock };
}

type Call = ReturnType<typeof startCall>;

/** The caller listens (1 s of line silence, so the VAD knows the line), then speaks: how many 20 ms tone frames until the first clear. */
function speakUntilClear(h: Call, maxFrames = 10): number | undefined {
  for (let i = 0; i < 50; i++) h.transport.events.audio(SILENT_FRAME, 20);
  for (let frame = 1; frame <= maxFrames; frame++) {
    h.transport.events.audio(TONE.subarray((frame - 1) * 160, frame * 160), 20);
    if (h.transport.clears().length > 0) return frame;
  }
  return undefined;
}

/** At 0 ms the model delivers the 3 s answer in one delta; a window of it goes to the caller. */
async function answerPlaying(h: Call, sentence1AtMs?: number): Promise<void> {
  h.model.events.responseStarted('r1');
  const deliver = (from: number, to: number, sentenceId: number) =>
    h.model.events.audio({ responseId: 'r1', itemId: 'item-1', sentenceId, bytes: ANSWER.subarray(from * 8, to * 8), durationMs: to - from });
  if (sentence1AtMs === undefined) {
    await deliver(0, 3_000, 0);
  } else {
    await deliver(0, sentence1AtMs, 0);
    h.model.events.sentenceEnd('r1', 0);
    await deliver(sentence1AtMs, 3_000, 1);
  }
  assert.equal(h.transport.sentMs(), 800, 'a window of the answer is with the caller');
}

const interrupts = (h: Call) => h.model.calls.filter((c) => c.kind === 'interrupt');

/** Everything sent in `epoch`, joined. */
function bytesOf(h: Call, epoch: number): Uint8Array {
  return new Uint8Array(Buffer.concat(h.transport.sentBytes.filter((s) => s.epoch === epoch).map((s) => s.bytes)));
}

/** The caller speaks at 300 ms into the answer: the second tone frame clears it (epoch 1). */
async function clearedAt300(h: Call): Promise<void> {
  await answerPlaying(h);
  h.clock.ms = 300;
  assert.equal(speakUntilClear(h), 2);
  assert.deepEqual(h.transport.clears(), [1]);
}

describe('CallSession, local barge-in', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('40 ms: the second frame of speech clears the caller and holds the answer; the model\'s speech start makes it a barge-in, truncated at the confirmed point', async () => {
    const h = startCall(40);
    await clearedAt300(h);
    assert.deepEqual(interrupts(h), [], 'the model is not interrupted on a guess');
    h.clock.ms = 350;
    h.transport.events.played(1, 0); // the marker behind the clear: the caller stopped at 350 ms
    h.clock.ms = 400;
    h.model.events.speechStarted();
    assert.deepEqual(h.localBargeIns, [true]);
    assert.deepEqual(interrupts(h), [{ kind: 'interrupt', heard: { itemId: 'item-1', audioEndMs: 350 } }]);
    assert.deepEqual(h.transport.clears(), [1], 'no second clear');
    assert.equal(h.transport.sentMs(1), 0, 'nothing more was sent');
    assert.equal(h.bargeIns.length, 1);
    const report = h.bargeIns[0]!;
    assert.equal(report.trigger, 'local');
    assert.equal(report.truncateSource, 'marker');
    assert.equal(report.heardMs, 350);
    assert.equal(report.estimateAtBargeInMs, 300);
    assert.equal(report.settledAfterMs, 50);
    assert.equal(report.droppedMs, 2_200, 'everything held was dropped');
    // The clear's silence (back during the hold) is reported once it is a barge-in, after it.
    assert.deepEqual(h.observed, ['bargeInStarted 1', 'bargeIn', 'silenced 1 50']);
    mock.timers.tick(HOLD_MS);
    assert.deepEqual(h.localBargeIns, [true], 'settled once');
    assert.equal(h.transport.sentMs(1), 0);
    h.session.end('test');
  });

  test('the model\'s speech start before the clear is confirmed: the truncation waits for the marker', async () => {
    const h = startCall(40);
    await clearedAt300(h);
    h.clock.ms = 320;
    h.model.events.speechStarted();
    assert.deepEqual(interrupts(h), [{ kind: 'interrupt', heard: HEARD_PENDING }]);
    h.clock.ms = 350;
    h.transport.events.played(1, 0);
    assert.deepEqual(h.model.calls.filter((c) => c.kind === 'heard'), [{ kind: 'heard', heard: { itemId: 'item-1', audioEndMs: 350 } }]);
    assert.equal(h.bargeIns[0]!.truncateSource, 'marker');
    assert.equal(h.bargeIns[0]!.trigger, 'local');
    h.session.end('test');
  });

  test('100 ms of speech needed: the fifth frame', async () => {
    const h = startCall(100);
    await answerPlaying(h);
    assert.equal(speakUntilClear(h), 5);
    h.session.end('test');
  });

  test('a false start: the hold runs out, nothing is interrupted, and the answer goes on from where the caller stopped hearing it', async () => {
    const h = startCall(40);
    await clearedAt300(h);
    h.clock.ms = 350;
    h.transport.events.played(1, 0);
    mock.timers.tick(HOLD_MS - 1);
    assert.deepEqual(h.localBargeIns, []);
    assert.equal(h.transport.sentMs(1), 0, 'held');
    mock.timers.tick(1);
    assert.deepEqual(h.localBargeIns, [false]);
    assert.deepEqual(interrupts(h), []);
    assert.equal(h.bargeIns.length, 0);
    assert.deepEqual(h.observed, [], 'a false start is no barge-in');
    // From 350 ms on: the 450 ms the clear took back, then the queue, seamless, as far as credit
    // goes (the queue's pieces are the delivery's 100 ms ones: three fit the 350 ms left).
    assert.equal(h.transport.sentMs(1), 750);
    assert.deepEqual(bytesOf(h, 1), ANSWER.subarray(350 * 8, 1_100 * 8));
    // The model hears the caller later: an ordinary barge-in of the resumed answer.
    h.model.events.speechStarted();
    assert.deepEqual(h.transport.clears(), [1, 2]);
    assert.deepEqual(interrupts(h), [{ kind: 'interrupt', heard: HEARD_PENDING }]);
    h.session.end('test');
  });

  test('a false start before the caller confirmed the clear resumes from the estimate when the clear left', async () => {
    const h = startCall(40);
    await clearedAt300(h);
    mock.timers.tick(HOLD_MS);
    assert.deepEqual(h.localBargeIns, [false]);
    assert.deepEqual(bytesOf(h, 1), ANSWER.subarray(300 * 8, 1_100 * 8));
    h.session.end('test');
  });

  test('localBargeInHoldMs sets the hold', async () => {
    const h = startCall(40, 300);
    await clearedAt300(h);
    mock.timers.tick(299);
    assert.deepEqual(h.localBargeIns, []);
    mock.timers.tick(1);
    assert.deepEqual(h.localBargeIns, [false]);
    assert.deepEqual(bytesOf(h, 1), ANSWER.subarray(300 * 8, 1_100 * 8));
    h.session.end('test');
  });

  test('sentence ends go again with the audio: those the caller heard first, the rest in place', async () => {
    for (const [clearAtMs, expected, sentUntilMs] of [
      [200, [['audio', 0], ['sentence-end', 0], ['audio', 1]], 1_000],
      [400, [['sentence-end', 0], ['audio', 1]], 1_200],
    ] as const) {
      const h = startCall(40);
      await answerPlaying(h, 300);
      h.clock.ms = clearAtMs;
      assert.equal(speakUntilClear(h), 2);
      mock.timers.tick(HOLD_MS);
      const epoch1 = h.transport.calls.filter((c) => 'epoch' in c && c.epoch === 1 && c.kind !== 'clear');
      const kinds = epoch1.map((c) => [c.kind, 'sentenceId' in c ? c.sentenceId : -1]);
      // Consecutive audio of one sentence counts once.
      const runs = kinds.filter((k, i) => i === 0 || k[0] !== 'audio' || kinds[i - 1]![0] !== 'audio' || kinds[i - 1]![1] !== k[1]);
      assert.deepEqual(runs, expected, `clear at ${clearAtMs} ms`);
      assert.deepEqual(bytesOf(h, 1), ANSWER.subarray(clearAtMs * 8, sentUntilMs * 8));
      h.session.end('test');
    }
  });

  test('off by default: the same speech leaves the answer to the model\'s VAD', async () => {
    for (const localBargeInMs of [undefined, 0]) {
      const h = startCall(localBargeInMs);
      await answerPlaying(h);
      assert.equal(speakUntilClear(h), undefined);
      assert.equal(interrupts(h).length, 0);
      h.model.events.speechStarted();
      assert.deepEqual(h.transport.clears(), [1]);
      assert.deepEqual(h.localBargeIns, []);
      h.session.end('test');
    }
  });

  test('speech while nothing of an answer is audible is the caller\'s turn: no clear, no interrupt', async () => {
    const h = startCall(40);
    assert.equal(speakUntilClear(h), undefined);
    assert.equal(interrupts(h).length, 0);
    assert.deepEqual(h.localBargeIns, []);
    h.session.end('test');
  });

  test('the call ending disarms the hold', async () => {
    const h = startCall(40);
    await clearedAt300(h);
    h.session.end('test');
    mock.timers.tick(HOLD_MS);
    assert.deepEqual(h.localBargeIns, []);
    assert.equal(h.transport.sentMs(1), 0);
  });
});
