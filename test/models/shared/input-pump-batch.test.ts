// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputPump, MAX_BATCH_BYTES } from '../../../src/models/shared/input-pump.js';
import { MAX_INPUT_BATCH_MS, SILENT_LOGGER, inputBatchMsOf, resolveLinkOptions } from '../../../src/models/shared/options.js';
import { resolveOptions } from '../../../src/models/openai-realtime/options.js';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import { SendLog } from './send-log.js';

/** A pump with `batchMs` whose sends are recorded (bytes copied: the pump reuses its batch buffer). */
function batching(batchMs: number, writable = true) {
  const log = new SendLog<{ bytes: number[]; ms: number; at: number }>();
  const state = { writable };
  const pump = new InputPump({
    highWaterMarkMs: 2000,
    writable: () => state.writable,
    send: (bytes, ms) => log.push({ bytes: Array.from(bytes), ms, at: performance.now() }),
    logger: SILENT_LOGGER,
    batchMs,
  });
  return { pump, sent: log.entries, state, whenSent: (count: number, timeoutMs?: number) => log.whenCount(count, timeoutMs) };
}

/** A 20 ms μ-law frame whose bytes all equal `value`. */
const frame = (value: number): Uint8Array => new Uint8Array(160).fill(value);

describe('InputPump batching (batchMs)', () => {
  test('five 20 ms frames go out as ONE 100 ms chunk, bytes in order', () => {
    const { pump, sent } = batching(100);
    for (let i = 1; i <= 4; i++) pump.push(frame(i), 20);
    assert.equal(sent.length, 0);
    assert.equal(pump.stats.queuedMs, 80);
    pump.push(frame(5), 20);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.ms, 100);
    assert.deepEqual(sent[0]!.bytes, [1, 2, 3, 4, 5].flatMap((v) => Array.from(frame(v))));
    assert.deepEqual(pump.stats, { droppedMs: 0, queuedMs: 0, sentMs: 100, dropEpisodes: 0 });
    pump.close();
  });

  test('a partial batch is sent by the shared timer, no earlier than batchMs after its first frame', async () => {
    const { pump, sent, whenSent } = batching(60);
    const t0 = performance.now();
    pump.push(frame(7), 20);
    pump.push(frame(8), 20);
    await whenSent(1);
    assert.equal(sent[0]!.ms, 40);
    assert.deepEqual(sent[0]!.bytes, [...frame(7), ...frame(8)]);
    // The ticker runs every 20 ms: the batch leaves in [60, 60 + 20 + timer slack) ms.
    assert.ok(sent[0]!.at - t0 >= 60, `sent after ${sent[0]!.at - t0} ms`);
    pump.close();
  });

  test('sendBatch() sends the partial batch at once; close() drops it and nothing follows', () => {
    const { pump, sent } = batching(100);
    pump.push(frame(1), 20);
    pump.sendBatch();
    assert.deepEqual(sent.map((s) => s.ms), [20]);
    pump.push(frame(2), 20);
    pump.close();
    pump.push(frame(3), 20);
    pump.sendBatch();
    assert.deepEqual(sent.map((s) => s.ms), [20]);
    assert.equal(pump.stats.queuedMs, 0);
  });

  test('an urgent frame (speech) goes at once, right behind the quiet batch before it', () => {
    const { pump, sent } = batching(100);
    pump.push(frame(1), 20);
    pump.push(frame(2), 20);
    assert.equal(sent.length, 0);
    pump.push(frame(3), 20, true);
    assert.deepEqual(sent.map((s) => s.ms), [40, 20]);
    assert.deepEqual(sent.flatMap((s) => s.bytes), [...frame(1), ...frame(2), ...frame(3)]);
    pump.push(frame(4), 20, true);
    assert.deepEqual(sent.map((s) => s.ms), [40, 20, 20]);
    pump.close();
  });

  test('a chunk of batchMs or more passes straight through, after the partial batch before it', () => {
    const { pump, sent } = batching(100);
    pump.push(frame(1), 20);
    pump.push(new Uint8Array(800).fill(9), 100);
    assert.deepEqual(sent.map((s) => s.ms), [20, 100]);
    pump.close();
  });

  test('frames whose batch would need more than MAX_BATCH_BYTES are not batched (the buffer is bounded)', () => {
    const { pump, sent } = batching(100);
    const dense = new Uint8Array(MAX_BATCH_BYTES / 2); // 1 ms of it would make a 100 ms batch of 3 MiB
    pump.push(dense, 1);
    pump.push(dense, 1);
    assert.deepEqual(sent.map((s) => s.ms), [1, 1]);
    pump.close();
  });

  test('batches wait in the bounded queue while the socket is not writable', () => {
    const { pump, sent, state } = batching(100, false);
    for (let i = 0; i < 10; i++) pump.push(frame(i), 20);
    assert.equal(sent.length, 0);
    assert.equal(pump.stats.queuedMs, 200);
    state.writable = true;
    pump.flush();
    assert.deepEqual(sent.map((s) => s.ms), [100, 100]);
    pump.close();
  });

  test('property: with the socket writable, the bytes sent are the bytes pushed, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_INPUT_BATCH_MS }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 100 }), (batchMs, sizes) => {
        const { pump, sent } = batching(batchMs);
        const pushed: number[] = [];
        sizes.forEach((ms, i) => {
          const bytes = new Uint8Array(ms * 8).fill(i % 251);
          pushed.push(...bytes);
          pump.push(bytes, ms);
        });
        pump.sendBatch();
        assert.deepEqual(sent.flatMap((s) => s.bytes), pushed);
        assert.equal(pump.stats.sentMs, sizes.reduce((a, b) => a + b, 0));
        pump.close();
      }),
      { numRuns: 300 },
    );
  });

  test('batchMs is bounded: a RangeError in the pump, VW_ERR_CONFIG in the options', () => {
    assert.throws(() => batching(MAX_INPUT_BATCH_MS + 1), RangeError);
    assert.throws(() => batching(-1), RangeError);
    for (const bad of [-1, 1.5, MAX_INPUT_BATCH_MS + 1, Number.NaN]) {
      assert.throws(() => inputBatchMsOf(bad), (err: unknown) => isVoicewireError(err) && err.code === 'VW_ERR_CONFIG');
    }
    assert.equal(resolveLinkOptions({}).inputBatchMs, 0);
    assert.equal(resolveLinkOptions({ inputBatchMs: 100 }).inputBatchMs, 100);
    assert.equal(resolveOptions({ apiKey: 'k', callerFormat: TWILIO_FORMAT, inputBatchMs: 60 }).inputBatchMs, 60);
    assert.throws(() => resolveOptions({ apiKey: 'k', callerFormat: TWILIO_FORMAT, inputBatchMs: 201 }), (err: unknown) => isVoicewireError(err) && err.code === 'VW_ERR_CONFIG');
  });
});
