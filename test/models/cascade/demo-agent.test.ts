/**
 * The embedded demo agent: streams its script as token-sized deltas (nothing lost), greets, tells
 * the caller how long they spoke, and reports interruptions with the measured figures.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DemoAgent, tokenize } from '../../../src/models/cascade/demo-agent.js';
import { GREETING, TOPICS, composeAnswer } from '../../../src/models/cascade/demo-script.js';
import type { TurnFacts, TurnInput } from '../../../src/models/cascade/reasoner.js';

const noFacts: TurnFacts = { turns: 1, interruptions: 0, lastBargeInMs: undefined, interrupted: undefined };
const utterance = (text?: string): TurnInput => ({ kind: 'utterance', text, durationMs: 2340, levelDbfs: -20, truncated: false });

async function collect(agent: DemoAgent, input: TurnInput, facts = noFacts, signal = new AbortController().signal): Promise<string[]> {
  const out: string[] = [];
  for await (const d of agent.respond(input, { history: [], facts, signal })) out.push(d);
  return out;
}

describe('tokenize', () => {
  test('pieces concatenate back to the text and are token-sized (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const pieces = tokenize(text);
        assert.equal(pieces.join(''), text);
        assert.ok(pieces.every((p) => p.trim().length <= 6));
      }),
    );
  });
});

describe('DemoAgent', () => {
  test('greets with the greeting, streamed in many small deltas', async () => {
    const deltas = await collect(new DemoAgent({ tokensPerSecond: 0, firstTokenDelayMs: 0 }), { kind: 'greeting' });
    assert.equal(deltas.join(''), GREETING);
    assert.ok(deltas.length > 40);
  });

  test('tells the caller how long they spoke and what it heard, then the next topic', async () => {
    const agent = new DemoAgent({ tokensPerSecond: 0, firstTokenDelayMs: 0 });
    const first = (await collect(agent, utterance())).join('');
    assert.match(first, /I heard you speak for 2\.3 seconds/);
    assert.ok(first.endsWith(TOPICS[0]!));
    const second = (await collect(agent, utterance('what is backpressure'), { ...noFacts, turns: 2 })).join('');
    assert.match(second, /You said: "what is backpressure"\. That took you 2\.3 seconds\./);
    assert.ok(second.endsWith(TOPICS[1]!));
  });

  test('reports an interruption with where it stopped, the barge-in time and the count', () => {
    const facts: TurnFacts = {
      turns: 3,
      interruptions: 2,
      lastBargeInMs: 187.4,
      interrupted: { heard: 'Let me tell you about backpressure. Every queue in this', unheard: 'gateway has a limit, counted in ms.' },
    };
    const answer = composeAnswer(utterance(), facts, 1);
    assert.match(answer, /You interrupted me just after "Every queue in this"\./);
    assert.match(answer, /stopped 187 milliseconds after you started talking/);
    assert.match(answer, /7 words I hadn't said yet were dropped/);
    assert.match(answer, /I was about to say "gateway has a limit, counted in ms…"/);
    assert.match(answer, /your second interruption/);
  });

  test('streams at the configured pace and stops at once when aborted', async () => {
    const agent = new DemoAgent({ tokensPerSecond: 30, firstTokenDelayMs: 0 });
    const controller = new AbortController();
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const d of agent.respond({ kind: 'greeting' }, { history: [], facts: noFacts, signal: controller.signal })) {
          seen.push(d);
          if (seen.length === 2) controller.abort(new Error('barge-in'));
        }
      })(),
      /barge-in/,
    );
    assert.equal(seen.length, 2);
  });
});
