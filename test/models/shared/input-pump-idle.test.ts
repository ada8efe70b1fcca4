// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputPump } from '../../../src/models/shared/input-pump.js';
import { MAX_INPUT_IDLE_BATCH_MS, SILENT_LOGGER, inputIdleBatchMsOf, resolveLinkOptions } from '../../../src/models/shared/options.js';
import { resolveOptions } from '../../../src/models/openai-realtime/options.js';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import { SendLog } from './send-log.js';

/** A writable pump with `batchMs` and `idleBatchMs` whose sends are recorded (bytes copied). */
function pumpWith(batchMs: number, idleBatchMs: number) {
  const log = new SendLog<{ bytes: number[]; ms: number; at: number }>();
  const pump = new InputPump({
    highWaterMarkMs: 2000,
    writable: () => true,
    send: (bytes, ms) => log.push({ bytes: Array.from(bytes), ms, at: performance.now() }),
    logger: SILENT_LOGGER,
    batchMs,
    idleBatchMs,
  });
  return { pump, sent: log.entries, whenSent: (count: number, timeoutMs?: number) => log.whenCount(count, timeoutMs) };
}

/** A 20 ms μ-law frame whose bytes all equal `value`. */
const frame = (value: number): Uint8Array => new Uint8Array(160).fill(value);

describe('InputPump idle batching (idleBatchMs while the model hears no speech; batchMs for every frame while it hears speech)', () => {
  test('until the owner reports, batchMs applies', () => {
    const { pump, sent } = pumpWith(100, 400);
    for (let i = 0; i < 10; i++) pump.push(frame(i), 20);
    assert.deepEqual(sent.map((s) => s.ms), [100, 100]);
    pump.close();
  });

  test('while the model hears no speech, quiet frames go in idleBatchMs chunks, bytes in order', () => {
    const { pump, sent } = pumpWith(100, 400);
    pump.setSpeaking(false);
    for (let i = 0; i < 19; i++) pump.push(frame(i), 20);
    assert.equal(sent.length, 0);
    assert.equal(pump.stats.queuedMs, 380);
    pump.push(frame(19), 20);
    assert.deepEqual(sent.map((s) => s.ms), [400]);
    assert.deepEqual(sent[0]!.bytes, Array.from({ length: 20 }, (_, i) => Array.from(frame(i))).flat());
    pump.close();
  });

  test('speech heard: the idle batch goes at once, then batchMs applies; speech over: idleBatchMs again', () => {
    const { pump, sent } = pumpWith(100, 400);
    pump.setSpeaking(false);
    for (let i = 0; i < 7; i++) pump.push(frame(1), 20);
    pump.setSpeaking(true);
    assert.deepEqual(sent.map((s) => s.ms), [140]);
    pump.setSpeaking(true); // repeated: nothing to send, nothing changes
    for (let i = 0; i < 5; i++) pump.push(frame(2), 20);
    assert.deepEqual(sent.map((s) => s.ms), [140, 100]);
    pump.setSpeaking(false);
    for (let i = 0; i < 20; i++) pump.push(frame(3), 20);
    assert.deepEqual(sent.map((s) => s.ms), [140, 100, 400]);
    pump.close();
  });

  test('a loud (urgent) frame goes at once behind the idle batch', () => {
    const { pump, sent } = pumpWith(100, 400);
    pump.setSpeaking(false);
    for (let i = 0; i < 12; i++) pump.push(frame(1), 20);
    pump.push(frame(9), 20, true);
    assert.deepEqual(sent.map((s) => s.ms), [240, 20]);
    assert.deepEqual(sent[1]!.bytes, Array.from(frame(9)));
    pump.close();
  });

  test('while the model hears speech, loud (urgent) frames wait in the batchMs batch like quiet ones, bytes in order', () => {
    const { pump, sent } = pumpWith(100, 400);
    pump.setSpeaking(true);
    for (let i = 0; i < 4; i++) pump.push(frame(i), 20, true);
    assert.equal(sent.length, 0);
    assert.equal(pump.stats.queuedMs, 80);
    pump.push(frame(4), 20, true);
    pump.push(frame(5), 20, false);
    assert.deepEqual(sent.map((s) => s.ms), [100]);
    assert.deepEqual(sent[0]!.bytes, Array.from({ length: 5 }, (_, i) => Array.from(frame(i))).flat());
    // Speech over: the onset of the next utterance goes at once again, right behind what waited.
    pump.setSpeaking(false);
    pump.push(frame(9), 20, true);
    assert.deepEqual(sent.map((s) => s.ms), [100, 20, 20]);
    assert.deepEqual(sent[1]!.bytes, Array.from(frame(5)));
    assert.deepEqual(sent[2]!.bytes, Array.from(frame(9)));
    pump.close();
  });

  test('a partial idle batch is sent by the shared timer, no earlier than idleBatchMs after its first frame', async () => {
    const { pump, sent, whenSent } = pumpWith(40, 120);
    pump.setSpeaking(false);
    const t0 = performance.now();
    pump.push(frame(1), 20);
    pump.push(frame(2), 20);
    await whenSent(1);
    assert.deepEqual(sent.map((s) => s.ms), [40]);
    assert.ok(sent[0]!.at - t0 >= 120, `sent after ${sent[0]!.at - t0} ms`);
    pump.close();
  });

  test('an idleBatchMs below batchMs is raised to it', () => {
    const { pump, sent } = pumpWith(100, 20);
    pump.setSpeaking(false);
    for (let i = 0; i < 5; i++) pump.push(frame(i), 20);
    assert.deepEqual(sent.map((s) => s.ms), [100]);
    pump.close();
  });

  test('property: bytes out = bytes in, in order; quiet audio waiting stays under the batch in force', () => {
    type Step = { kind: 'quiet' | 'loud'; ms: number } | { kind: 'speaking'; speaking: boolean };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constantFrom('quiet' as const, 'loud' as const), ms: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('speaking' as const), speaking: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: MAX_INPUT_IDLE_BATCH_MS }), fc.array(step, { maxLength: 150 }), (batchMs, idleBatchMs, steps) => {
        const { pump, sent } = pumpWith(batchMs, idleBatchMs);
        const pushed: number[] = [];
        let speaking: boolean | undefined;
        steps.forEach((s, i) => {
          if (s.kind === 'speaking') {
            const started = s.speaking && speaking !== true;
            pump.setSpeaking(s.speaking);
            speaking = s.speaking;
            // The model starts hearing speech: what waited goes at once.
            if (started) assert.equal(pump.stats.queuedMs, 0);
            return;
          }
          const bytes = new Uint8Array(s.ms * 8).fill(i % 251);
          pushed.push(...bytes);
          pump.push(bytes, s.ms, s.kind === 'loud');
          const inForce = speaking === false ? Math.max(batchMs, idleBatchMs) : batchMs;
          assert.ok(pump.stats.queuedMs < Math.max(inForce, 1), `${pump.stats.queuedMs} ms waiting with ${inForce} ms in force`);
          // The onset of speech goes at once; once the model hears speech, loud frames may wait too.
          if (s.kind === 'loud' && speaking !== true) assert.equal(pump.stats.queuedMs, 0);
        });
        pump.sendBatch();
        assert.deepEqual(sent.flatMap((s) => s.bytes), pushed);
        pump.close();
      }),
      { numRuns: 300 },
    );
  });

  test('idleBatchMs is bounded: a RangeError in the pump, VW_ERR_CONFIG in the options', () => {
    assert.throws(() => pumpWith(100, MAX_INPUT_IDLE_BATCH_MS + 1), RangeError);
    assert.throws(() => pumpWith(100, -1), RangeError);
    for (const bad of [-1, 2.5, MAX_INPUT_IDLE_BATCH_MS + 1, Number.NaN]) {
      assert.throws(() => inputIdleBatchMsOf(bad), (err: unknown) => isVoicewireError(err) && err.code === 'VW_ERR_CONFIG');
    }
    assert.equal(resolveLinkOptions({}).inputIdleBatchMs, 0);
    assert.equal(resolveLinkOptions({ inputIdleBatchMs: 400 }).inputIdleBatchMs, 400);
    assert.equal(resolveOptions({ apiKey: 'k', callerFormat: TWILIO_FORMAT, inputIdleBatchMs: 500 }).inputIdleBatchMs, 500);
    assert.throws(() => resolveOptions({ apiKey: 'k', callerFormat: TWILIO_FORMAT, inputIdleBatchMs: 1001 }), (err: unknown) => isVoicewireError(err) && err.code === 'VW_ERR_CONFIG');
  });
});
