import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MarkLedger } from '../../../src/transports/twilio/mark-ledger.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';

const EVERY = 1600; // 200 ms of μ-law
const BPM = 8;

type Step = { media: number } | { mark: string };

/** Sends `bytes` through the ledger as the adapter does: media cuts and marks, in wire order. */
function sendSteps(ledger: MarkLedger, bytes: number): Step[] {
  const steps: Step[] = [];
  let offset = 0;
  while (offset < bytes) {
    const n = Math.min(bytes - offset, ledger.roomBeforeMark());
    steps.push({ media: n });
    offset += n;
    const mark = ledger.sent(n);
    if (mark !== undefined) steps.push({ mark });
  }
  return steps;
}

function sendAudio(ledger: MarkLedger, bytes: number): { marks: string[]; cuts: number[] } {
  const steps = sendSteps(ledger, bytes);
  return {
    marks: steps.flatMap((s) => ('mark' in s ? [s.mark] : [])),
    cuts: steps.flatMap((s) => ('media' in s ? [s.media] : [])),
  };
}

void describe('MarkLedger', () => {
  void test('marks every 200 ms of audio, whatever the chunking, with cumulative positions', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    assert.deepEqual(sendAudio(ledger, 4000), { marks: ['vw:0:0:200', 'vw:0:1:400'], cuts: [1600, 1600, 800] });
    assert.deepEqual(sendAudio(ledger, 1000), { marks: ['vw:0:2:600'], cuts: [800, 200] });
    assert.equal(ledger.sentenceEnd(4), 'vw:0:3:625:s4');
    assert.deepEqual(sendAudio(ledger, 1600).marks, ['vw:0:4:825']);
  });

  void test('an older epoch is refused; a newer one closes the old tail with a mark', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    assert.deepEqual(ledger.enter(2), { ok: true, closingMark: undefined });
    sendAudio(ledger, 2000);
    assert.deepEqual(ledger.enter(1), { ok: false });
    assert.deepEqual(ledger.enter(3), { ok: true, closingMark: 'vw:2:1:250' });
    assert.equal(ledger.positionBytes, 0);
  });

  void test('echo verdicts: played, repeat, flushed by clear, unknown', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    const [a, b] = sendAudio(ledger, 3200).marks;
    const s = ledger.sentenceEnd(0);
    assert.deepEqual(ledger.judge(a!), { kind: 'played', epoch: 0, positionMs: 200, advanced: true });
    ledger.clear(1);
    assert.deepEqual(ledger.judge(b!), { kind: 'flushed', epoch: 0, positionMs: 400 });
    assert.deepEqual(ledger.judge(s), { kind: 'flushed', epoch: 0, positionMs: 400 });
    const after = ledger.sentenceEnd(9);
    assert.deepEqual(ledger.judge(after), { kind: 'played', epoch: 1, positionMs: 0, advanced: true, sentenceId: 9 });
    assert.deepEqual(ledger.judge(after), { kind: 'played', epoch: 1, positionMs: 0, advanced: false, sentenceId: 9 });
    assert.deepEqual(ledger.judge('vw:1:99:0'), { kind: 'unknown' });
    assert.deepEqual(ledger.judge('hello'), { kind: 'unknown' });
  });

  void test('under any interleaving: spacing ≤ 200 ms, exact positions, and only unflushed echoes count', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('audio' as const), bytes: fc.integer({ min: 1, max: 5000 }), epochStep: fc.constantFrom(0, 0, 0, 1, -1) }),
      fc.record({ kind: fc.constant('sentence' as const), id: fc.nat(50) }),
      fc.record({ kind: fc.constant('clear' as const), epochStep: fc.constantFrom(0, 1, 2) }),
      fc.record({ kind: fc.constant('play' as const), count: fc.nat(6) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const ledger = new MarkLedger(EVERY, BPM);
        // Twilio's view: marks pending in order, each with whether a clear has flushed it.
        const pending: string[] = [];
        const flushedNames = new Set<string>();
        let epoch = 0;
        let bytesInEpoch = 0;
        let sinceMark = 0;
        let lastPlayed: [number, number] = [-1, -1];
        const onMark = (name: string): void => {
          const info = parseMarkName(name);
          assert.ok(info !== undefined);
          assert.equal(info.epoch, epoch);
          assert.equal(info.positionMs, Math.floor(bytesInEpoch / BPM));
          assert.ok(sinceMark <= EVERY, `${sinceMark} bytes between marks`);
          sinceMark = 0;
          pending.push(name);
        };
        for (const o of ops) {
          if (o.kind === 'audio') {
            const target = Math.max(0, epoch + o.epochStep);
            const entered = ledger.enter(target);
            if (!entered.ok) {
              assert.ok(target < epoch);
              continue;
            }
            if (entered.closingMark !== undefined) onMark(entered.closingMark);
            if (target !== epoch) {
              epoch = target;
              bytesInEpoch = 0;
              sinceMark = 0;
            }
            for (const step of sendSteps(ledger, o.bytes)) {
              if ('mark' in step) onMark(step.mark);
              else {
                bytesInEpoch += step.media;
                sinceMark += step.media;
              }
            }
            // Audio never waits more than one interval for its mark.
            assert.ok(sinceMark < EVERY);
          } else if (o.kind === 'sentence') {
            onMark(ledger.sentenceEnd(o.id));
          } else if (o.kind === 'clear') {
            epoch += o.epochStep;
            bytesInEpoch = 0;
            sinceMark = 0;
            lastPlayed = [lastPlayed[0], -1];
            ledger.clear(epoch);
            for (const name of pending.splice(0)) flushedNames.add(name);
          } else {
            for (const name of pending.splice(0, o.count)) {
              const verdict = ledger.judge(name);
              assert.equal(verdict.kind, 'played');
              if (verdict.kind !== 'played') continue;
              const moved = verdict.epoch > lastPlayed[0] || (verdict.epoch === lastPlayed[0] && verdict.positionMs > lastPlayed[1]);
              assert.equal(verdict.advanced, moved);
              if (moved) lastPlayed = [verdict.epoch, verdict.positionMs];
            }
          }
          // Echoes Twilio flushed arrive any time after the clear; they must never count.
          for (const name of flushedNames) assert.equal(ledger.judge(name).kind, 'flushed');
          flushedNames.clear();
        }
      }),
      { numRuns: 500 },
    );
  });
});
