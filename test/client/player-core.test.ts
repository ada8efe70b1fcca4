import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlayerCore, type PlayedReport, type SentenceAck } from '../../client/src/player-core.js';

const RATE = 24000;

function samples(n: number, start = 1): Int16Array {
  // Distinct, non-zero values so the order of output can be checked.
  return Int16Array.from({ length: n }, (_, i) => ((start + i - 1) % 30000) + 1);
}

function drain(core: PlayerCore, quantum = 128, max = 1_000_000): { output: number[]; reports: PlayedReport[]; acks: SentenceAck[] } {
  const output: number[] = [];
  const reports: PlayedReport[] = [];
  const acks: SentenceAck[] = [];
  const out = new Float32Array(quantum);
  for (let i = 0; i < max && (core.bufferedSamples > 0 || i === 0); i++) {
    const n = core.render(out);
    output.push(...Array.from(out.subarray(0, n)));
    const report = core.takeReport();
    if (report) reports.push(report);
    acks.push(...core.takeAcks());
  }
  return { output, reports, acks };
}

type Op =
  | { kind: 'push'; epochDelta: -1 | 0 | 1; sentenceId: number; n: number }
  | { kind: 'render'; n: number }
  | { kind: 'end'; sentenceId: number }
  | { kind: 'clear'; ahead: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), epochDelta: fc.constantFrom(-1 as const, 0 as const, 0 as const, 0 as const, 1 as const), sentenceId: fc.integer({ min: 0, max: 4 }), n: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('render' as const), n: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('end' as const), sentenceId: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), ahead: fc.boolean() }) },
);

describe('PlayerCore', () => {
  test('plays accepted samples in order, then silence, and reports the position when it runs dry', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 100 });
    assert.equal(core.push(0, 1, samples(480)), 'accepted');
    assert.equal(core.push(0, 1, samples(480, 481)), 'accepted');
    assert.equal(core.bufferedMs, 40);
    const out = new Float32Array(1000);
    assert.equal(core.render(out), 960);
    assert.equal(out[0], Math.fround(1 / 32768));
    assert.equal(out[959], Math.fround(960 / 32768));
    assert.equal(out[960], 0);
    assert.deepEqual(core.takeReport(), { epoch: 0, playedMs: 40 });
    assert.equal(core.takeReport(), undefined, 'nothing new to report');
  });

  test('reports every reportEveryMs of output while playing, not per render quantum', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 1000, reportEveryMs: 50 });
    core.push(0, 1, samples(24000));
    const { reports } = drain(core);
    assert.deepEqual(reports.slice(0, 3).map((r) => r.playedMs), [53.333, 106.666, 160]);
    assert.equal(reports.at(-1)?.playedMs, 1000);
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.playedMs - reports[i - 1]!.playedMs <= 55);
  });

  test('a frame that does not fit the window is counted and skipped, never stored', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 200 });
    assert.equal(core.capacity, 4800);
    assert.equal(core.push(0, 1, samples(4000)), 'accepted');
    assert.equal(core.push(0, 1, samples(1000)), 'overflow');
    assert.equal(core.bufferedSamples, 4000);
    assert.equal(core.counters.framesOverflow, 1);
    assert.equal(core.counters.samplesOverflow, 1000);
    core.push(0, 1, samples(480));
    core.sentenceEnd(0, 1);
    const { reports, acks } = drain(core);
    // The skipped samples count as played where they would have played: credit heals.
    assert.equal(reports.at(-1)?.playedMs, Math.floor((5480 * 1_000_000) / RATE) / 1000);
    assert.deepEqual(acks, [{ epoch: 0, sentenceId: 1 }]);
  });

  test('a frame larger than the whole window is skipped at once when nothing is queued', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 200 });
    assert.equal(core.push(0, 1, samples(9600)), 'overflow');
    assert.equal(core.playedSamples, 9600);
    assert.deepEqual(core.takeReport(), { epoch: 0, playedMs: 400 });
  });

  test('clear drops everything at once, moves the epoch and refuses late frames of the old one', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 800 });
    core.push(0, 1, samples(9600));
    core.sentenceEnd(0, 1);
    assert.equal(core.clear(1), 9600);
    assert.equal(core.bufferedSamples, 0);
    assert.equal(core.epoch, 1);
    assert.equal(core.push(0, 1, samples(480)), 'stale');
    assert.equal(core.counters.framesStale, 1);
    const out = new Float32Array(128);
    assert.equal(core.render(out), 0);
    assert.ok(out.every((v) => v === 0));
    assert.deepEqual(core.takeAcks(), [], 'a sentence dropped by clear is never acknowledged');
    assert.equal(core.clear(1), undefined, 'a clear that is not newer is ignored');
    assert.equal(core.counters.staleClears, 1);
  });

  test('a frame of a newer epoch acts as a clear to it', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 800 });
    core.push(0, 1, samples(4800));
    assert.equal(core.push(2, 1, samples(480)), 'accepted');
    assert.equal(core.epoch, 2);
    assert.equal(core.bufferedSamples, 480);
    assert.equal(core.counters.implicitClears, 1);
  });

  test('a sentence is acknowledged when its last sample has been output, not before', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 800 });
    core.push(0, 1, samples(1000));
    core.sentenceEnd(0, 1);
    core.push(0, 2, samples(1000));
    core.sentenceEnd(0, 2);
    const out = new Float32Array(999);
    core.render(out);
    assert.deepEqual(core.takeAcks(), []);
    core.render(new Float32Array(1));
    assert.deepEqual(core.takeAcks(), [{ epoch: 0, sentenceId: 1 }]);
    core.render(new Float32Array(1000));
    assert.deepEqual(core.takeAcks(), [{ epoch: 0, sentenceId: 2 }]);
    core.sentenceEnd(0, 3);
    assert.deepEqual(core.takeAcks(), [{ epoch: 0, sentenceId: 3 }], 'nothing queued: acknowledged at once');
  });

  test('an underrun is counted when the ring runs dry inside an open sentence', () => {
    const core = new PlayerCore({ sampleRate: RATE, capacityMs: 800 });
    core.push(0, 1, samples(100));
    core.render(new Float32Array(128));
    assert.equal(core.counters.underruns, 1);
    core.push(0, 1, samples(100));
    core.sentenceEnd(0, 1);
    core.render(new Float32Array(128));
    assert.equal(core.counters.underruns, 1, 'running dry at a sentence end is not an underrun');
  });

  test('invariants under random operations: bounded, ordered, monotonic, acked once in place', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 2000 }), fc.array(op, { maxLength: 80 }), (capacityMs, ops) => {
        const core = new PlayerCore({ sampleRate: RATE, capacityMs, reportEveryMs: 50 });
        let expected: number[] = [];
        let received = 0;
        const markers: Array<{ epoch: number; sentenceId: number; position: number }> = [];
        const lastReport = new Map<number, number>();
        let counter = 1;
        const check = (): void => {
          assert.ok(core.bufferedSamples <= core.capacity, 'never holds more than its capacity');
          assert.ok(core.maxBufferedSamples <= core.capacity);
          assert.equal(core.bufferedSamples, expected.length);
          assert.ok(core.playedSamples + core.bufferedSamples <= core.receivedSamples);
          const report = core.takeReport();
          if (report) {
            const previous = lastReport.get(report.epoch) ?? 0;
            assert.ok(report.playedMs > previous, 'reports strictly increase within an epoch');
            assert.equal(report.epoch, core.epoch);
            assert.ok(report.playedMs <= (received * 1000) / RATE + 1e-9);
            lastReport.set(report.epoch, report.playedMs);
          }
          for (const ack of core.takeAcks()) {
            const index = markers.findIndex((m) => m.epoch === ack.epoch && m.sentenceId === ack.sentenceId);
            assert.ok(index >= 0, 'acks only sentences that ended, once');
            assert.ok(markers[index]!.position <= core.playedSamples, 'acked only once played past its end');
            markers.splice(index, 1);
          }
        };
        for (const o of ops) {
          if (o.kind === 'push') {
            const epoch = Math.max(0, core.epoch + o.epochDelta);
            const data = samples(o.n, counter);
            counter += o.n;
            const before = core.epoch;
            const result = core.push(epoch, o.sentenceId, data);
            if (epoch > before) {
              expected = [];
              received = 0;
              markers.length = 0;
            }
            if (epoch < before) assert.equal(result, 'stale');
            else received += o.n;
            if (result === 'accepted') expected.push(...Array.from(data, (v) => Math.fround(v / 32768)));
            if (result === 'overflow') assert.ok(expected.length + o.n > core.capacity);
          } else if (o.kind === 'render') {
            const out = new Float32Array(o.n);
            const n = core.render(out);
            const want = expected.splice(0, o.n);
            assert.equal(n, want.length);
            assert.deepEqual(Array.from(out.subarray(0, n)), want, 'FIFO order');
            assert.ok(out.subarray(n).every((v) => v === 0), 'silence after the ring runs dry');
          } else if (o.kind === 'end') {
            if (core.sentenceEnd(core.epoch, o.sentenceId)) {
              markers.push({ epoch: core.epoch, sentenceId: o.sentenceId, position: received });
            }
          } else {
            const target = o.ahead ? core.epoch + 1 : core.epoch;
            const dropped = core.clear(target);
            if (o.ahead) {
              assert.equal(dropped, expected.length);
              expected = [];
              received = 0;
              markers.length = 0;
              assert.equal(core.bufferedSamples, 0, 'clear drops everything');
            } else assert.equal(dropped, undefined);
          }
          check();
        }
        // Playing everything out reaches the end of the epoch: every skip applied, every sentence acked.
        const out = new Float32Array(4096);
        while (core.bufferedSamples > 0) {
          expected.splice(0, core.render(out));
          check();
        }
        assert.equal(core.render(out), 0);
        check();
        assert.equal(core.playedSamples, received);
        assert.equal(markers.filter((m) => m.epoch === core.epoch).length, 0);
      }),
      { numRuns: 300 },
    );
  });
});
