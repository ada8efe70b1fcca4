import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MarkLedger } from '../../../src/transports/twilio/mark-ledger.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';

const EVERY = 1600; // 200 ms of μ-law
const BPM = 8;

type Step = { media: number } | { mark: string };

/** Sends one media message of `bytes` through the ledger as the adapter does: the message, then its mark if one is due. */
function sendSteps(ledger: MarkLedger, bytes: number): Step[] {
  const mark = ledger.sent(bytes);
  return mark === undefined ? [{ media: bytes }] : [{ media: bytes }, { mark }];
}

function sendAudio(ledger: MarkLedger, bytes: number): { marks: string[]; cuts: number[] } {
  const steps = sendSteps(ledger, bytes);
  return {
    marks: steps.flatMap((s) => ('mark' in s ? [s.mark] : [])),
    cuts: steps.flatMap((s) => ('media' in s ? [s.media] : [])),
  };
}

void describe('MarkLedger', () => {
  void test('a periodic mark follows the message during which 200 ms accumulated, at its end; a message is never cut', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    assert.equal(ledger.sent(1000), undefined);
    assert.equal(ledger.sent(1000), 'vw:0:0:250');
    assert.equal(ledger.sent(1600), 'vw:0:1:450');
    assert.equal(ledger.sent(4000), 'vw:0:2:950'); // one long message: one mark, at its end
    assert.equal(ledger.sentenceEnd(4), 'vw:0:3:950:s4');
    assert.equal(ledger.sent(800), undefined); // the sentence mark restarted the count
    // One more 799-byte message would put the next mark past 250 ms (the prediction lead): marked now.
    assert.equal(ledger.sent(799), 'vw:0:4:1149');
    ledger.sentBeforeMark(1601); // a padded tail with its own mark behind it: no periodic mark
    assert.equal(ledger.positionBytes, 10_800);
    assert.equal(ledger.sentenceEnd(5), 'vw:0:5:1350:s5');
    for (let i = 0; i < 9; i++) assert.equal(ledger.sent(160), undefined);
    assert.equal(ledger.sent(160), 'vw:0:6:1550');
  });

  void test('an older epoch is refused; a newer one closes the old tail with a mark', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    assert.deepEqual(ledger.enter(2), { ok: true, closingMark: undefined });
    assert.deepEqual(sendAudio(ledger, 2000), { marks: ['vw:2:0:250'], cuts: [2000] });
    assert.deepEqual(sendAudio(ledger, 400), { marks: [], cuts: [400] });
    assert.deepEqual(ledger.enter(1), { ok: false });
    assert.deepEqual(ledger.enter(3), { ok: true, closingMark: 'vw:2:1:300' });
    assert.equal(ledger.positionBytes, 0);
  });

  void test('echo verdicts: played, repeat, flushed by clear, unknown', () => {
    const ledger = new MarkLedger(EVERY, BPM);
    const [a, b] = [...sendAudio(ledger, 1600).marks, ...sendAudio(ledger, 1600).marks];
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

  void test('messages of one size: marks at most 250 ms apart (the prediction lead), every 200 ms for sizes that divide it', () => {
    for (let size = 1; size <= 2 * EVERY; size++) {
      const ledger = new MarkLedger(EVERY, BPM);
      const spacings: number[] = [];
      let since = 0;
      for (let i = 0; i < Math.ceil((4 * EVERY) / size) + 2; i++) {
        since += size;
        if (ledger.sent(size) !== undefined) {
          spacings.push(since);
          since = 0;
        }
      }
      assert.ok(spacings.length > 0);
      const bound = Math.max(size, EVERY * 1.25);
      assert.ok(spacings.every((bytes) => bytes <= bound), `${size}-byte messages: marks ${spacings.join(', ')} bytes apart`);
      if (EVERY % size === 0 && size <= EVERY * 0.5) assert.ok(spacings.every((bytes) => bytes === EVERY), `${size}: ${spacings.join(', ')}`);
    }
    // The bench's and the pump's steady state: 200 ms sends, one mark each; 150 ms sends: one each too.
    const marksOf = (size: number, count: number): number => {
      const ledger = new MarkLedger(EVERY, BPM);
      return Array.from({ length: count }, () => ledger.sent(size)).filter((mark) => mark !== undefined).length;
    };
    assert.equal(marksOf(EVERY, 10), 10);
    assert.equal(marksOf(1200, 10), 10);
    assert.equal(marksOf(800, 10), 5);
    assert.equal(marksOf(160, 100), 10);
  });

  void test('under any interleaving: marks at most 200 ms + one message apart, exact positions, and only unflushed echoes count', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('audio' as const), bytes: fc.integer({ min: 1, max: 5000 }), epochStep: fc.constantFrom(0, 0, 0, 1, -1) }),
      fc.record({ kind: fc.constant('sentence' as const), id: fc.nat(50), tailBytes: fc.constantFrom(0, 0, 1, 7, 1599, 1600, 3000) }),
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
        /** The last media message's size: a mark ends the message during which the interval filled. */
        let lastMessage = 0;
        let lastPlayed: [number, number] = [-1, -1];
        const onMark = (name: string): void => {
          const info = parseMarkName(name);
          assert.ok(info !== undefined);
          assert.equal(info.epoch, epoch);
          assert.equal(info.positionMs, Math.floor(bytesInEpoch / BPM));
          assert.ok(sinceMark - lastMessage < EVERY, `${sinceMark} bytes between marks, the last message ${lastMessage}`);
          sinceMark = 0;
          lastMessage = 0;
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
            const steps = sendSteps(ledger, o.bytes);
            for (const step of steps) {
              if ('mark' in step) onMark(step.mark);
              else {
                bytesInEpoch += step.media;
                sinceMark += step.media;
                lastMessage = step.media;
              }
            }
            // One message per send; the audio left without a mark is less than one interval.
            assert.equal(steps.filter((step) => 'media' in step).length, 1);
            assert.ok(sinceMark < EVERY);
          } else if (o.kind === 'sentence') {
            if (o.tailBytes > 0) {
              ledger.sentBeforeMark(o.tailBytes);
              bytesInEpoch += o.tailBytes;
              sinceMark += o.tailBytes;
              lastMessage = o.tailBytes;
            }
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
