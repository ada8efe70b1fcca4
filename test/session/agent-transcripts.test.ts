/** AgentTranscripts: settled when played, split at the heard position on barge-in, bounded. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AgentTranscripts, type AgentUtterance } from '../../src/session/agent-transcripts.js';

function recorder(): { t: AgentTranscripts; out: AgentUtterance[] } {
  const out: AgentUtterance[] = [];
  return { t: new AgentTranscripts((u) => out.push(u)), out };
}

/** r1 (1 s, 'aaaa bbbb', done), then r2 (2 s so far, 'cccc dddd eeee ffff') in the same epoch. */
function twoResponses(): { t: AgentTranscripts; out: AgentUtterance[] } {
  const { t, out } = recorder();
  t.started('r1');
  t.text('r1', 'aaaa bbbb');
  t.audio('r1', 1000);
  t.done('r1', 0);
  t.started('r2');
  t.text('r2', 'cccc dddd eeee ffff');
  t.audio('r2', 2000);
  return { t, out };
}

describe('AgentTranscripts', () => {
  test('a response is reported whole once its audio has played, not when the model is done', () => {
    const { t, out } = recorder();
    t.started('r1');
    t.text('r1', 'Hello there.');
    t.audio('r1', 1000);
    t.done('r1', 200);
    assert.deepEqual(out, []);
    t.played(1000);
    assert.deepEqual(out, [{ responseId: 'r1', text: 'Hello there.', interrupted: false, unheard: null, heardMs: null }]);
  });

  test('a barge-in splits at the heard position; a later response in the epoch starts after the earlier one', () => {
    const { t, out } = twoResponses();
    t.bargeIn(2000); // all of r1, half of r2
    assert.deepEqual(out, [
      { responseId: 'r1', text: 'aaaa bbbb', interrupted: false, unheard: null, heardMs: null },
      { responseId: 'r2', text: 'cccc dddd', interrupted: true, unheard: 'eeee ffff', heardMs: 1000 },
    ]);
  });

  test('rebase (a false start resumed at 1 500 ms): positions of the new epoch count from there', () => {
    const { t, out } = twoResponses();
    t.rebase(1500);
    t.played(0);
    assert.deepEqual(out, [{ responseId: 'r1', text: 'aaaa bbbb', interrupted: false, unheard: null, heardMs: null }], 'r1 ended before the resume point');
    t.audio('r2', 1000); // r2 is 3 s now: it ends at 1 500 of the new epoch
    t.bargeIn(1000); // r2 started at 1 000 of the old epoch, 500 before the new one's 0: 1 500 of its 3 000 heard
    assert.deepEqual(out[1], { responseId: 'r2', text: 'cccc dddd', interrupted: true, unheard: 'eeee ffff', heardMs: 1500 });
  });

  test('a response still being generated is cut even if all its audio so far was heard', () => {
    const { t, out } = recorder();
    t.started('r1');
    t.text('r1', 'one two');
    t.audio('r1', 500);
    t.bargeIn(800);
    assert.deepEqual(out, [{ responseId: 'r1', text: 'one two', interrupted: true, unheard: '', heardMs: 500 }]);
  });

  test('property: heard + unheard is the whole text, and heard grows with the position', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 30 }), fc.nat(4000), fc.nat(4000), (words, a, b) => {
        const text = words.join(' ');
        const heardAt = (ms: number): AgentUtterance => {
          const { t, out } = recorder();
          t.started('r');
          t.text('r', text);
          t.audio('r', 4000);
          t.done('r', 0);
          t.bargeIn(ms);
          return out[0]!;
        };
        const [lo, hi] = [heardAt(Math.min(a, b)), heardAt(Math.max(a, b))];
        for (const u of [lo, hi]) assert.equal([u.text, u.unheard ?? ''].filter((p) => p !== '').join(' '), text);
        assert.ok(lo.text.length <= hi.text.length);
      }),
    );
  });

  test('at most 8 responses are kept; the oldest is settled as heard', () => {
    const { t, out } = recorder();
    for (let i = 0; i < 9; i++) {
      t.started(`r${i}`);
      t.text(`r${i}`, `text ${i}`);
    }
    assert.deepEqual(out.map((u) => u.responseId), ['r0']);
  });
});
