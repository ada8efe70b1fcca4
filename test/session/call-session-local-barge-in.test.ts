/**
 * Local barge-in (`localBargeInMs`): the gateway's own VAD on the caller's audio interrupts the
 * answer as soon as it hears that much speech; the model's speech start that follows confirms it
 * and does not interrupt a second time.
 */
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSession } from '../../src/session/call-session.js';
import { LOCAL_BARGE_IN_CONFIRM_MS } from '../../src/session/call-session-options.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { MULAW_SILENCE } from '../../src/audio/mulaw.js';
import { HEARD_PENDING } from '../../src/models/model.js';
import { silentLogger } from '../../src/server/logger.js';
import type { BargeInReport } from '../../src/session/observer.js';
import { toneMulaw } from '../fakes/twilio-caller.js';
import { HearingModel, RecordingTransport } from './fakes.js';

const SILENT_FRAME = new Uint8Array(160).fill(MULAW_SILENCE);
const TONE = toneMulaw(200);

function startCall(localBargeInMs: number | undefined) {
  const transport = new RecordingTransport();
  const model = new HearingModel(false, TWILIO_FORMAT);
  const bargeIns: BargeInReport[] = [];
  const localBargeIns: boolean[] = [];
  const session = new CallSession({
    transport,
    createModel: () => model,
    logger: silentLogger(),
    creditWindowMs: 800,
    startCushionMs: 0,
    maxQueuedAudioMs: 120_000,
    ...(localBargeInMs === undefined ? {} : { localBargeInMs }),
    observer: { bargeIn: (r) => bargeIns.push(r), localBargeIn: (confirmed) => localBargeIns.push(confirmed) },
  });
  transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
  return { session, transport, model, bargeIns, localBargeIns };
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

async function answerPlaying(h: Call): Promise<void> {
  h.model.events.responseStarted('r1');
  await h.model.deliver('r1', 3_000, 0, 'item-1');
  assert.equal(h.transport.sentMs(), 800, 'a window of the answer is with the caller');
}

const interrupts = (h: Call) => h.model.calls.filter((c) => c.kind === 'interrupt');

describe('CallSession, local barge-in', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('40 ms: the second 20 ms frame of speech clears the caller and cancels the answer; the model\'s speech start confirms it', async () => {
    const h = startCall(40);
    await answerPlaying(h);
    assert.equal(speakUntilClear(h), 2);
    assert.deepEqual(h.transport.clears(), [1]);
    assert.deepEqual(interrupts(h), [{ kind: 'interrupt', heard: HEARD_PENDING }]);
    h.model.events.speechStarted();
    assert.deepEqual(h.transport.clears(), [1], 'no second clear');
    assert.equal(interrupts(h).length, 1, 'no second interrupt');
    assert.deepEqual(h.localBargeIns, [true]);
    mock.timers.tick(LOCAL_BARGE_IN_CONFIRM_MS);
    assert.deepEqual(h.localBargeIns, [true], 'settled once');
    // The truncation still settles on the marker behind the local clear.
    h.transport.events.played(1, 0);
    assert.equal(h.bargeIns.length, 1);
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

  test('a local barge-in the model does not confirm in time is counted as a false start', async () => {
    const h = startCall(40);
    await answerPlaying(h);
    assert.equal(speakUntilClear(h), 2);
    mock.timers.tick(LOCAL_BARGE_IN_CONFIRM_MS - 1);
    assert.deepEqual(h.localBargeIns, []);
    mock.timers.tick(1);
    assert.deepEqual(h.localBargeIns, [false]);
    // A speech start after the deadline is the model's own: nothing is audible, nothing to interrupt.
    h.model.events.speechStarted();
    assert.deepEqual(h.localBargeIns, [false]);
    assert.deepEqual(h.transport.clears(), [1]);
    h.session.end('test');
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

  test('the call ending disarms the confirmation deadline', async () => {
    const h = startCall(40);
    await answerPlaying(h);
    assert.equal(speakUntilClear(h), 2);
    h.session.end('test');
    mock.timers.tick(LOCAL_BARGE_IN_CONFIRM_MS);
    assert.deepEqual(h.localBargeIns, []);
  });
});
