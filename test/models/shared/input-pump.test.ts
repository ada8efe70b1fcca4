// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputPump } from '../../../src/models/shared/input-pump.js';
import type { LoggerLike } from '../../../src/models/openai-realtime/options.js';
import { SendLog } from './send-log.js';

interface LogLine {
  level: string;
  msg: string | undefined;
}

function recordingLogger(lines: LogLine[]): LoggerLike {
  const at = (level: string) => (_obj: object, msg?: string) => {
    lines.push({ level, msg });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function harness(highWaterMarkMs: number) {
  const log = new SendLog<{ first: number; ms: number }>();
  const lines: LogLine[] = [];
  const state = { writable: false };
  const pump = new InputPump({
    highWaterMarkMs,
    writable: () => state.writable,
    send: (bytes, ms) => log.push({ first: bytes[0]!, ms }),
    logger: recordingLogger(lines),
    pollMs: 5,
  });
  return { pump, sent: log.entries, lines, state, whenSent: (count: number, timeoutMs?: number) => log.whenCount(count, timeoutMs) };
}

/** A 20 ms frame whose first byte numbers it, so the order of what was sent is visible. */
function frame(n: number): Uint8Array {
  return new Uint8Array(160).fill(n % 256);
}

describe('InputPump', () => {
  test('sends at once while the socket is writable and nothing waits', () => {
    const { pump, sent, state } = harness(100);
    state.writable = true;
    pump.push(frame(1), 20);
    pump.push(frame(2), 20);
    assert.deepEqual(sent.map((s) => s.first), [1, 2]);
    assert.equal(pump.stats.queuedMs, 0);
    pump.close();
  });

  test('bounds waiting audio in ms and drops the OLDEST, counting it', () => {
    const { pump, sent, state } = harness(100);
    for (let n = 1; n <= 10; n++) pump.push(frame(n), 20);
    assert.equal(pump.stats.queuedMs, 100);
    assert.equal(pump.stats.droppedMs, 100);
    state.writable = true;
    pump.flush();
    assert.deepEqual(sent.map((s) => s.first), [6, 7, 8, 9, 10], 'the newest 100 ms, in order');
    pump.close();
  });

  test('logs one warning per drop episode, and a summary when the queue drains', () => {
    const { pump, lines, state } = harness(40);
    for (let n = 0; n < 50; n++) pump.push(frame(n), 20);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 1);
    state.writable = true;
    pump.flush();
    assert.equal(lines.filter((l) => l.level === 'info').length, 1);
    state.writable = false;
    for (let n = 0; n < 50; n++) pump.push(frame(n), 20);
    assert.equal(lines.filter((l) => l.level === 'warn').length, 2, 'a new episode logs again');
    assert.equal(pump.stats.dropEpisodes, 2);
    pump.close();
  });

  test('keeps a copy of queued audio (the caller may reuse its buffer)', () => {
    const { pump, sent, state } = harness(100);
    const reused = frame(7);
    pump.push(reused, 20);
    reused.fill(9);
    state.writable = true;
    pump.flush();
    assert.equal(sent[0]!.first, 7);
    pump.close();
  });

  test('drains on its own once the socket becomes writable (no further push needed)', async () => {
    const { pump, sent, state, whenSent } = harness(100);
    pump.push(frame(1), 20);
    pump.push(frame(2), 20);
    state.writable = true;
    await whenSent(2);
    assert.deepEqual(sent.map((s) => s.first), [1, 2]);
    pump.close();
  });

  test('a chunk longer than the whole bound is dropped, not queued', () => {
    const { pump } = harness(100);
    pump.push(new Uint8Array(1600), 200);
    assert.equal(pump.stats.droppedMs, 200);
    assert.equal(pump.stats.queuedMs, 0);
    pump.close();
  });

  test('property: queued ≤ bound, and sent + dropped + queued = pushed, whatever the interleaving', () => {
    const steps = fc.array(fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant('open' as const), fc.constant('shut' as const)), { maxLength: 200 });
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 500 }), steps, (bound, sequence) => {
        const { pump, sent, state } = harness(bound);
        let pushed = 0;
        for (const step of sequence) {
          if (step === 'open') {
            state.writable = true;
            pump.flush();
          } else if (step === 'shut') {
            state.writable = false;
          } else {
            pump.push(new Uint8Array(step * 8), step);
            pushed += step;
          }
          const stats = pump.stats;
          assert.ok(stats.queuedMs <= bound + 1, 'AudioQueue allows 1 ms over its mark for rounding');
          const sentMs = sent.reduce((sum, s) => sum + s.ms, 0);
          assert.equal(sentMs, stats.sentMs);
          assert.equal(stats.sentMs + stats.droppedMs + stats.queuedMs, pushed);
        }
        pump.close();
      }),
      { numRuns: 300 },
    );
  });
});
