/**
 * OutboundAudio's hold and resume (local barge-in): a hold stops the sending and restarts the
 * caller's timeline; resume sends again what the caller did not hear, then the queue. Whatever
 * the deliveries, played reports, time and holds, the caller hears the stream once, in order.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundAudio } from '../../src/session/outbound.js';
import { EpochClock } from '../../src/flow/epoch.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import type { OutboundAudio as AudioChunk } from '../../src/transports/transport.js';
import { RecordingTransport } from './fakes.js';

const BPM = 8; // μ-law bytes per ms

/** Keeps every byte sent, by epoch. */
class CopyingTransport extends RecordingTransport {
  readonly bytesOf = new Map<number, number[]>();
  override sendAudio(chunk: AudioChunk): void {
    super.sendAudio(chunk);
    const sent = this.bytesOf.get(chunk.epoch) ?? [];
    for (const b of chunk.bytes) sent.push(b);
    this.bytesOf.set(chunk.epoch, sent);
  }
}

/** The stream's byte at `offset` (no shift of it looks like another). */
const streamByte = (offset: number): number => ((offset * 2654435761) >>> 24) & 0xff;
const stream = (from: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => streamByte(from + i));

function make(t: TestContext, replayable: boolean, leadMs = 250) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const transport = new CopyingTransport();
  const epochs = new EpochClock();
  const out = new OutboundAudio({
    transport, format: TWILIO_FORMAT, epochs, windowMs: 400, pausable: false, queueMs: 100_000, sendChunkMs: 100,
    playoutStallMs: 600_000, now: () => Date.now(), predictionLeadMs: leadMs, replayable,
    onCap: () => assert.fail('cap'), onFatal: (e) => assert.fail(e),
  });
  void out.run();
  return { transport, epochs, out };
}

const audio = (bytes: Uint8Array, itemId = 'item') => ({ responseId: 'r', itemId, sentenceId: 0, bytes, durationMs: bytes.length / BPM });

describe('OutboundAudio hold and resume', () => {
  test('a hold sends nothing until resume; resume sends from the heard point, then the queue', (t) => {
    const { transport, epochs, out } = make(t, true);
    void out.enqueue(audio(stream(0, 1_000 * BPM)));
    assert.equal(transport.sentMs(0), 400);
    t.mock.timers.tick(150);
    epochs.advance();
    const report = out.hold(Date.now());
    assert.equal(report.heardMs, 150);
    assert.equal(report.droppedMs, 0);
    assert.equal(out.hasUnplayed, true);
    out.played(0); // the marker behind the clear
    t.mock.timers.tick(1_000);
    assert.equal(transport.sentMs(1), 0, 'nothing sent while holding');
    assert.deepEqual(out.resume(170), { replayMs: 230, fromMs: 170 });
    // From 170 ms: the 230 ms sent and not heard, then the queue's 100 ms pieces while credit lasts (one of 170).
    assert.deepEqual(transport.bytesOf.get(1), [...stream(170 * BPM, 330 * BPM)]);
  });

  test('resume without replayable goes on with the queue only; dropAll during a hold drops everything', (t) => {
    const plain = make(t, false);
    void plain.out.enqueue(audio(stream(0, 1_000 * BPM)));
    plain.epochs.advance();
    plain.out.hold(Date.now());
    assert.deepEqual(plain.out.resume(100), { replayMs: 0, fromMs: 100 });
    assert.deepEqual(plain.transport.bytesOf.get(1), [...stream(400 * BPM, 400 * BPM)]);
    t.mock.timers.reset();

    const held = make(t, true);
    void held.out.enqueue(audio(stream(0, 1_000 * BPM)));
    held.epochs.advance();
    held.out.hold(Date.now());
    held.epochs.advance();
    assert.equal(held.out.dropAll(Date.now()).droppedMs, 600);
    assert.equal(held.out.hasUnplayed, false);
    assert.equal(held.out.storageBytes, 0);
    assert.deepEqual(held.out.resume(0), { replayMs: 0, fromMs: 0 }, 'nothing held any more');
    assert.equal(held.transport.sentMs(1) + held.transport.sentMs(2), 0);
  });

  test('property: through deliveries, played reports, time and holds resumed at any point the caller confirmed or not, the caller hears the stream exactly once, in order', (t) => {
    const step = fc.oneof(
      fc.record({ deliver: fc.integer({ min: 1, max: 3_000 }), item: fc.constantFrom('a', 'b') }),
      fc.record({ play: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ tick: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ hold: fc.double({ min: 0, max: 1, noNaN: true }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.constantFrom(0, 250), (steps, leadMs) => {
        try {
          holdsHearOnce(t, steps, leadMs);
        } finally {
          t.mock.timers.reset();
        }
      }),
      { numRuns: 150 },
    );
  });
});

type Step = { deliver: number; item: string } | { play: number } | { tick: number } | { hold: number };

function holdsHearOnce(t: TestContext, steps: readonly Step[], leadMs: number): void {
  const { transport, epochs, out } = make(t, true, leadMs);
  let queued = 0; // bytes of the stream delivered
  const heard: number[] = []; // what the caller heard of the epochs before the current one
  let played = 0;
  for (const s of steps) {
    const sentMs = transport.sentMs(epochs.current);
    if ('deliver' in s) {
      void out.enqueue(audio(stream(queued, s.deliver), s.item));
      queued += s.deliver;
    } else if ('play' in s) {
      played = Math.max(played, Math.floor(s.play * sentMs));
      out.played(played);
    } else if ('tick' in s) {
      t.mock.timers.tick(s.tick);
    } else {
      const heardMs = played + s.hold * (sentMs - played);
      epochs.advance();
      out.hold(Date.now());
      heard.push(...(transport.bytesOf.get(epochs.current - 1) ?? []).slice(0, Math.floor(heardMs * BPM)));
      out.played(0);
      played = 0;
      out.resume(heardMs);
    }
    assert.ok(out.storageBytes <= out.maxStorageBytes, `storage ${out.storageBytes} > ${out.maxStorageBytes}`);
    const now = [...heard, ...(transport.bytesOf.get(epochs.current) ?? [])];
    assert.deepEqual(now, [...stream(0, now.length)], 'the caller hears the stream in order, once');
  }
  for (let i = 0; i < 1_000 && out.hasUnplayed; i++) {
    t.mock.timers.tick(200);
    out.played(transport.sentMs(epochs.current));
  }
  assert.equal(out.hasUnplayed, false);
  assert.equal([...heard, ...(transport.bytesOf.get(epochs.current) ?? [])].length, queued, 'all of it');
  assert.equal(out.storageBytes, 0, 'storage kept once everything was played');
  out.close();
}
