/**
 * OutboundAudio keeps the queued bytes of a call in one byte ring: what the caller gets is exactly
 * what was queued (per epoch, in order, nothing of a dropped epoch), the ring stays within its
 * bound, and its storage is given back at barge-in, close and once the caller played everything.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundAudio, type OutboundOptions } from '../../src/session/outbound.js';
import { EpochClock } from '../../src/flow/epoch.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import type { OutboundAudio as AudioChunk } from '../../src/transports/transport.js';
import { RecordingTransport, settle } from './fakes.js';

const BPM = 8; // μ-law bytes per ms

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

/** A transport that keeps a copy of the bytes of every send, by epoch (the chunk's bytes are only lent). */
class CopyingTransport extends RecordingTransport {
  readonly bytesOf = new Map<number, number[]>();
  readonly checks: Array<(chunk: AudioChunk) => void> = [];
  override sendAudio(chunk: AudioChunk): void {
    super.sendAudio(chunk);
    for (const check of this.checks) check(chunk);
    const sent = this.bytesOf.get(chunk.epoch) ?? [];
    for (const b of chunk.bytes) sent.push(b);
    this.bytesOf.set(chunk.epoch, sent);
  }
}

function make(transport: CopyingTransport, options: Partial<OutboundOptions> = {}) {
  const epochs = new EpochClock();
  const caps: number[] = [];
  const out = new OutboundAudio({
    transport, format: TWILIO_FORMAT, epochs, windowMs: 400, pausable: false, queueMs: 1_000, sendChunkMs: 100,
    playoutStallMs: 600_000, now: () => Date.now(), predictionLeadMs: 0,
    onCap: (_id, droppedMs) => caps.push(droppedMs), onFatal: (e) => assert.fail(e),
    ...options,
  });
  return { out, epochs, caps };
}

const pattern = (length: number, from: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (from + i) % 251);
const audio = (bytes: Uint8Array, itemId = 'item', sentenceId = 0) => ({ responseId: 'r', itemId, sentenceId, bytes, durationMs: bytes.length / BPM });

describe('OutboundAudio byte ring', () => {
  test('property: random deliveries, played reports, time and barge-ins send exactly the bytes queued, within the bound, and an idle ring holds nothing', (t) => {
    mockClock(t);
    const step = fc.oneof(
      fc.record({ deliver: fc.integer({ min: 1, max: 4_000 }), item: fc.constantFrom('a', 'b'), sentence: fc.integer({ min: 0, max: 1 }) }),
      fc.record({ play: fc.integer({ min: 0, max: 500 }) }),
      fc.record({ tick: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ barge: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 200, max: 2_000 }), fc.constantFrom(0, 250), fc.constantFrom(20, 100, 200), (steps, queueMs, leadMs, sendChunkMs) => {
        const transport = new CopyingTransport();
        const { out, epochs, caps } = make(transport, { queueMs, predictionLeadMs: leadMs, sendChunkMs });
        const queuedOf = new Map<number, number[]>(); // the bytes accepted, by epoch
        transport.checks.push((chunk) => assert.equal(chunk.epoch, epochs.current, 'a send of a dropped epoch'));
        void out.run();
        let from = 0;
        let sentMs = 0;
        let played = 0;
        transport.checks.push((chunk) => (sentMs += chunk.durationMs));
        for (const s of steps) {
          if ('deliver' in s) {
            const bytes = pattern(s.deliver, from);
            from += s.deliver;
            const capsBefore = caps.length;
            const queued = queuedOf.get(epochs.current) ?? [];
            queuedOf.set(epochs.current, queued);
            void out.enqueue(audio(bytes, s.item, s.sentence));
            const dropped = caps.length > capsBefore ? Math.round(caps[caps.length - 1]! * BPM) : 0;
            for (const b of bytes.subarray(0, bytes.length - dropped)) queued.push(b);
          } else if ('play' in s) {
            played = Math.min(sentMs, played + s.play);
            out.played(played);
          } else if ('tick' in s) {
            t.mock.timers.tick(s.tick);
          } else {
            epochs.advance();
            out.dropAll(Date.now());
            assert.equal(out.storageBytes, 0, 'storage kept after a barge-in');
            sentMs = played = 0;
          }
          assert.ok(out.storageBytes <= out.maxStorageBytes, `storage ${out.storageBytes} > ${out.maxStorageBytes}`);
          const epoch = epochs.current;
          const sent = transport.bytesOf.get(epoch) ?? [];
          assert.deepEqual(sent, (queuedOf.get(epoch) ?? []).slice(0, sent.length), 'the bytes sent are not a prefix of those queued');
        }
        // The caller plays everything: every queued byte of the current epoch goes out, then the ring is idle.
        for (let i = 0; i < 1_000 && out.hasUnplayed; i++) {
          t.mock.timers.tick(200);
          played = sentMs;
          out.played(played);
        }
        assert.equal(out.hasUnplayed, false);
        assert.deepEqual(transport.bytesOf.get(epochs.current) ?? [], queuedOf.get(epochs.current) ?? []);
        assert.equal(out.storageBytes, 0, 'storage kept once everything was played');
        out.close();
      }),
      { numRuns: 100 },
    );
  });

  test('a pausable producer: the piece waiting for room waits in the ring (within the bound); all bytes arrive in order; a barge-in frees the ring and ends the wait', async () => {
    const transport = new CopyingTransport();
    const { out, epochs } = make(transport, { pausable: true, queueMs: 200, windowMs: 200 });
    void out.run();
    const write = out.enqueue(audio(pattern(1_000 * BPM, 0)));
    await settle();
    assert.equal(transport.sentMs(), 200);
    assert.equal(out.queuedMs, 300); // 200 queued, 100 held for credit
    assert.ok(out.storageBytes >= 400 * BPM && out.storageBytes <= out.maxStorageBytes, `storage ${out.storageBytes}`);
    for (let played = 100; played <= 800; played += 100) {
      out.played(played);
      await settle();
    }
    await write;
    out.played(1_000);
    assert.deepEqual(transport.bytesOf.get(0), [...pattern(1_000 * BPM, 0)]);
    assert.equal(out.storageBytes, 0);

    const dropped = out.enqueue(audio(pattern(1_000 * BPM, 7)));
    await settle();
    assert.ok(out.storageBytes > 0);
    epochs.advance();
    out.dropAll(Date.now());
    assert.equal(out.storageBytes, 0);
    await dropped; // the write waiting for room ends
    await out.enqueue(audio(pattern(100 * BPM, 3)));
    assert.deepEqual(transport.bytesOf.get(1), [...pattern(100 * BPM, 3)]);
    out.close();
    assert.equal(out.storageBytes, 0);
  });
});
