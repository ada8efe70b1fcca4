/**
 * OutboundAudio's synchronous pump: a piece goes out in the call stack of what made it sendable
 * (a delivery, a played report, the credit gate's wake-up), never nests when a send calls back,
 * and still ends a stalled path at the playout-stall deadline. Mock timers and Date throughout: no
 * test here awaits anything to see a send.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundAudio, type OutboundOptions } from '../../src/session/outbound.js';
import { EpochClock } from '../../src/flow/epoch.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import type { VoicewireError } from '../../src/errors.js';
import type { CallerTransport, OutboundAudio as AudioChunk } from '../../src/transports/transport.js';
import { RecordingTransport } from './fakes.js';

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

const delta = (ms: number, itemId = 'item', sentenceId = 0) => ({
  responseId: 'r', itemId, sentenceId, bytes: new Uint8Array(ms * 8), durationMs: ms,
});

interface Made {
  out: OutboundAudio;
  epochs: EpochClock;
  fatal: VoicewireError[];
  caps: number[];
}

function make(transport: CallerTransport, options: Partial<OutboundOptions> = {}): Made {
  const epochs = new EpochClock();
  const fatal: VoicewireError[] = [];
  const caps: number[] = [];
  const out = new OutboundAudio({
    transport, format: TWILIO_FORMAT, epochs, windowMs: 400, pausable: false, queueMs: 10_000,
    sendChunkMs: 100, playoutStallMs: 60_000, now: () => Date.now(),
    onCap: (_id, droppedMs) => caps.push(droppedMs), onFatal: (error) => fatal.push(error),
    ...options,
  });
  return { out, epochs, fatal, caps };
}

/** Byte `i` of delivery `seq` in the property: order and content of what is sent can be checked. */
const patternByte = (seq: number, i: number): number => (seq * 31 + i) % 251;

/** The barge-in as the session does it: a new epoch, then drop. */
function bargeIn(made: Made): void {
  made.epochs.advance();
  made.out.dropAll(Date.now());
}

describe('OutboundAudio pump', () => {
  test('a delivery covered by credit is sent before enqueue returns, and every delivery gets one shared promise', (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const { out } = make(transport);
    void out.run();
    const first = out.enqueue(delta(250));
    assert.equal(transport.sentMs(), 250);
    const second = out.enqueue(delta(250)); // 150 of credit left: one 100 ms piece, then held
    assert.equal(second, first);
    assert.equal(transport.sentMs(), 350);
    assert.equal(out.queuedMs, 150);
    out.close();
  });

  test('nothing is sent before run(); run() sends what was queued', (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const { out } = make(transport);
    void out.enqueue(delta(200));
    assert.equal(transport.sentMs(), 0);
    void out.run();
    assert.equal(transport.sentMs(), 200);
    out.close();
  });

  test('a played report sends what the credit it frees covers, before played() returns', (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const { out } = make(transport, { predictionLeadMs: 0 });
    void out.run();
    void out.enqueue(delta(1_000));
    assert.equal(transport.sentMs(), 400);
    out.played(250);
    assert.equal(transport.sentMs(), 600); // 250 freed: two pieces, the third waits for 50 more
    out.played(300);
    assert.equal(transport.sentMs(), 700);
    out.close();
  });

  test("a sentence end goes out in order, synchronously, without credit", (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const { out } = make(transport, { predictionLeadMs: 0 });
    void out.run();
    void out.enqueue(delta(400, 'a', 1));
    assert.equal(out.endSentence(1), true);
    void out.enqueue(delta(100, 'a', 2));
    assert.equal(out.endSentence(2), true);
    assert.deepEqual(transport.calls.map((c) => c.kind), ['audio', 'audio', 'audio', 'audio', 'sentence-end']);
    out.played(100);
    assert.deepEqual(transport.calls.slice(5).map((c) => c.kind), ['audio', 'sentence-end']);
    out.close();
  });

  test("the credit gate's predictive wake-up sends within the timer's own call", (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const { out } = make(transport); // lead 250
    void out.run();
    void out.enqueue(delta(1_000));
    t.mock.timers.tick(100);
    out.played(100); // the model runs from here: 100 ms of credit at once, +1 ms per ms
    assert.equal(transport.sentMs(), 500);
    t.mock.timers.tick(99);
    assert.equal(transport.sentMs(), 500);
    t.mock.timers.tick(1);
    assert.equal(transport.sentMs(), 600);
    t.mock.timers.tick(200);
    assert.equal(transport.sentMs(), 700);
    t.mock.timers.tick(50_000); // the lead bound stops the prediction at 100 + 250: credit 400 − (700 − 350)
    assert.equal(transport.sentMs(), 700); // 50 ms, under one 100 ms piece
    out.close();
  });

  test('a transport that reports played synchronously inside sendAudio does not nest the pump', (t) => {
    mockClock(t);
    let depth = 0;
    let maxDepth = 0;
    const transport = new (class extends RecordingTransport {
      override sendAudio(chunk: AudioChunk): void {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        super.sendAudio(chunk);
        made.out.played(this.sentMs()); // an instant player: everything sent is played at once
        depth--;
      }
    })();
    const made = make(transport, { predictionLeadMs: 0 });
    void made.out.run();
    void made.out.enqueue(delta(3_000));
    assert.equal(transport.sentMs(), 3_000);
    assert.equal(maxDepth, 1);
    assert.equal(made.out.queuedMs, 0);
    made.out.close();
  });

  test('a send that closes the path or barges in stops the pump at once', async (t) => {
    mockClock(t);
    for (const action of ['close', 'barge-in'] as const) {
      const transport = new (class extends RecordingTransport {
        override sendAudio(chunk: AudioChunk): void {
          super.sendAudio(chunk);
          if (action === 'close') made.out.close();
          else bargeIn(made);
        }
      })();
      const made = make(transport);
      const run = made.out.run();
      void made.out.enqueue(delta(300));
      assert.equal(transport.sentMs(), 100, action);
      assert.equal(made.out.queuedMs, 0, action);
      if (action === 'close') await run;
      else {
        assert.equal(made.out.hasUnplayed, false, 'the sent piece is on the dropped timeline');
        made.out.close();
      }
    }
  });

  test('a send that throws rejects run() and closes the path; the producer sees nothing', async (t) => {
    mockClock(t);
    const transport = new (class extends RecordingTransport {
      override sendAudio(): void {
        throw new Error('transport bug');
      }
    })();
    const { out } = make(transport);
    const run = out.run();
    await out.enqueue(delta(300)); // resolves: a bug in sending is not the model's to handle
    await assert.rejects(run, /transport bug/);
    assert.equal(out.queuedMs, 0);
  });

  test('the playout-stall deadline runs from the start of the current wait for credit', (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const made = make(transport, { predictionLeadMs: 0, playoutStallMs: 5_000 });
    void made.out.run();
    void made.out.enqueue(delta(1_000));
    t.mock.timers.tick(3_000);
    made.out.played(100); // one piece goes, the next one waits from 3 000
    assert.equal(transport.sentMs(), 500);
    t.mock.timers.tick(4_999);
    assert.equal(made.fatal.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(made.fatal.map((e) => e.code), ['VW_ERR_PLAYOUT_STALLED']);
    made.out.played(1_000); // the path is closed: nothing more is sent
    assert.equal(transport.sentMs(), 500);
    t.mock.timers.tick(60_000);
    assert.equal(made.fatal.length, 1);
  });

  test('credit that keeps flowing never trips the stall deadline, and a barge-in ends the wait', (t) => {
    mockClock(t);
    const transport = new RecordingTransport();
    const made = make(transport, { playoutStallMs: 1_000 });
    void made.out.run();
    void made.out.enqueue(delta(9_000)); // held for credit for 8.6 s, one piece at a time
    for (let at = 100; at <= 9_000; at += 100) {
      t.mock.timers.tick(100);
      made.out.played(Math.min(transport.sentMs(), at));
    }
    assert.equal(transport.sentMs(), 9_000);
    void made.out.enqueue(delta(1_000));
    bargeIn(made); // the held piece is dropped: no wait left to stall
    t.mock.timers.tick(10_000);
    assert.deepEqual(made.fatal, []);
    made.out.close();
  });

  test('property: any interleaving of deliveries, sentence ends, reports, time and barge-ins sends within credit, in order, never stale, and loses nothing', (t) => {
    mockClock(t);
    const step = fc.oneof(
      fc.record({ deliver: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ end: fc.constant(true) }),
      fc.record({ play: fc.integer({ min: 0, max: 500 }) }),
      fc.record({ tick: fc.integer({ min: 1, max: 600 }) }),
      fc.record({ barge: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 200, max: 1_000 }), fc.constantFrom(0, 250), (steps, windowMs, leadMs) => {
        const violations: string[] = [];
        let seq = 0; // deliveries so far; a piece or marker carries its delivery's seq as sentenceId
        let dropSeq = 0; // deliveries up to here were dropped by a barge-in
        let last = { seq: 0, rank: 0, offset: -1 }; // the last send: audio rank 0 (by byte offset), marker rank 1
        let sentInEpoch = 0;
        let played = 0;
        const delivered = new Map<number, number>();
        const sentOf = new Map<number, number>();
        const sentBytesOf = new Map<number, number>();
        const markers = new Set<number>();
        const markersSent = new Set<number>();
        const check = (what: string, key: { seq: number; rank: number; offset: number }, epoch: number): void => {
          if (epoch !== made.epochs.current) violations.push(`${what} of epoch ${epoch} in ${made.epochs.current}`);
          if (key.seq <= dropSeq) violations.push(`${what} of dropped delivery ${key.seq}`);
          const inOrder = key.seq > last.seq || (key.seq === last.seq && (key.rank > last.rank || (key.rank === 0 && last.rank === 0 && key.offset > last.offset)));
          if (!inOrder) violations.push(`${what} ${JSON.stringify(key)} after ${JSON.stringify(last)}`);
          last = key;
        };
        const transport = new (class extends RecordingTransport {
          override sendAudio(chunk: AudioChunk): void {
            // The bytes are those of the delivery that follow what it already sent (order and content).
            const offset = sentBytesOf.get(chunk.sentenceId) ?? 0;
            if (!chunk.bytes.every((b, i) => b === patternByte(chunk.sentenceId, offset + i))) violations.push(`delivery ${chunk.sentenceId}: wrong bytes at ${offset}`);
            sentBytesOf.set(chunk.sentenceId, offset + chunk.bytes.length);
            check('audio', { seq: chunk.sentenceId, rank: 0, offset }, chunk.epoch);
            sentInEpoch += chunk.durationMs;
            sentOf.set(chunk.sentenceId, (sentOf.get(chunk.sentenceId) ?? 0) + chunk.durationMs);
            if (made.out.credit.inFlightMs > windowMs + 1e-9) violations.push(`gate holds ${made.out.credit.inFlightMs} > ${windowMs}`);
            if (sentInEpoch - played > windowMs + leadMs + 1e-9) violations.push(`caller may hold ${sentInEpoch - played} > ${windowMs} + ${leadMs}`);
          }
          override endSentence(epoch: number, sentenceId: number): void {
            check('marker', { seq: sentenceId, rank: 1, offset: 0 }, epoch);
            markersSent.add(sentenceId);
          }
        })();
        const made = make(transport, { windowMs, predictionLeadMs: leadMs, queueMs: 2_000 });
        void made.out.run();
        for (const s of steps) {
          if ('deliver' in s) {
            seq++;
            delivered.set(seq, s.deliver);
            const capsBefore = made.caps.length;
            const bytes = Uint8Array.from({ length: s.deliver * 8 }, (_, i) => patternByte(seq, i));
            void made.out.enqueue({ ...delta(s.deliver, `d${seq}`, seq), bytes });
            if (made.caps.length > capsBefore) delivered.set(seq, s.deliver - made.caps[made.caps.length - 1]!);
          } else if ('end' in s) {
            if (seq > dropSeq && !markers.has(seq) && made.out.endSentence(seq)) markers.add(seq);
          } else if ('play' in s) {
            played = Math.min(sentInEpoch, played + s.play);
            made.out.played(played);
          } else if ('tick' in s) {
            t.mock.timers.tick(s.tick);
          } else {
            bargeIn(made);
            dropSeq = seq;
            last = { seq, rank: 1, offset: 0 };
            sentInEpoch = played = 0;
          }
          assert.deepEqual(violations, []);
        }
        // The caller plays everything: whatever was queued goes out, nothing is lost to a missed wake-up.
        for (let i = 0; i < 100 && made.out.queuedMs > 0; i++) {
          t.mock.timers.tick(1_000);
          played = sentInEpoch;
          made.out.played(played);
        }
        assert.deepEqual(violations, []);
        assert.equal(made.out.queuedMs, 0);
        for (const [n, ms] of delivered) if (n > dropSeq) assert.ok(Math.abs((sentOf.get(n) ?? 0) - ms) < 1e-6, `delivery ${n}: sent ${sentOf.get(n) ?? 0} of ${ms}`);
        for (const n of markers) if (n > dropSeq) assert.ok(markersSent.has(n), `marker ${n} not sent`);
        assert.deepEqual(made.fatal, []);
        made.out.close();
      }),
      { numRuns: 200 },
    );
  });
});
