/**
 * The OpenAI-compatible chat client: streamed deltas in order, robust to chunking, malformed
 * streams and HTTP failures as StageError('llm'), aborts reaching the server, and a body that is
 * not read while the consumer does not pull.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVoicewireError } from '../../../src/errors.js';
import { OpenAiChatReasoner, parseEvents } from '../../../src/models/cascade/llm-openai.js';
import type { ReasoningContext, TurnInput } from '../../../src/models/cascade/reasoner.js';
import { isStageError } from '../../../src/models/cascade/stage-error.js';
import { FakeOpenAiServer } from '../../fakes/openai-compatible.js';

let server: FakeOpenAiServer;
before(async () => {
  server = await FakeOpenAiServer.start();
});
after(async () => {
  await server.close();
});

const input: TurnInput = { kind: 'utterance', text: 'hi', durationMs: 500, levelDbfs: -20, truncated: false };
const facts = { turns: 1, interruptions: 0, lastBargeInMs: undefined, interrupted: undefined };

function context(signal = new AbortController().signal): ReasoningContext {
  return { history: [{ role: 'assistant', content: 'earlier' }], facts, signal };
}

async function collect(reasoner: OpenAiChatReasoner, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of reasoner.respond(input, context(signal))) out.push(delta);
  return out;
}

function reasoner(timeoutMs = 2000): OpenAiChatReasoner {
  return new OpenAiChatReasoner({ url: server.url, model: 'm', apiKey: 'secret', timeoutMs, systemPrompt: 'be brief' });
}

describe('OpenAiChatReasoner', () => {
  test('sends the system prompt, history and user turn with stream: true, and yields the deltas', async () => {
    server.chat = { tokens: ['Hel', 'lo', ' wörld', '!'], paceMs: 1 };
    assert.deepEqual(await collect(reasoner()), ['Hel', 'lo', ' wörld', '!']);
    const request = server.requestsTo('/v1/chat/completions').at(-1)!;
    assert.deepEqual((request.json as { messages: unknown }).messages, [
      { role: 'system', content: 'be brief' },
      { role: 'assistant', content: 'earlier' },
      { role: 'user', content: 'hi' },
    ]);
    assert.equal((request.json as { stream: boolean }).stream, true);
    assert.equal(request.headers.authorization, 'Bearer secret');
  });

  test('1000 tokens in one write come out as 1000 deltas', async () => {
    server.chat = { tokens: Array.from({ length: 1000 }, (_, i) => `t${i} `), paceMs: 0 };
    const deltas = await collect(reasoner());
    assert.equal(deltas.length, 1000);
    assert.equal(deltas[999], 't999 ');
  });

  for (const [failure, tokensBeforeFailure] of [['malformed', 2], ['truncated', 2], ['error-event', 1], ['status500', 0]] as const) {
    test(`a ${failure} stream is a StageError("llm") after the deltas before it`, async () => {
      server.chat = { tokens: ['a', 'b', 'c'], paceMs: 1, failure, tokensBeforeFailure };
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const d of reasoner().respond(input, context())) seen.push(d);
        })(),
        (err) => isStageError(err) && err.stage === 'llm',
      );
      assert.deepEqual(seen, ['a', 'b', 'c'].slice(0, tokensBeforeFailure));
    });
  }

  test('a server that stops sending is a StageError("llm") after the stage timeout', async () => {
    server.chat = { tokens: ['a', 'b'], paceMs: 1, failure: 'hang', tokensBeforeFailure: 1 };
    await assert.rejects(collect(reasoner(200)), (err) => isStageError(err) && /no answer within 200 ms/.test(err.message));
  });

  test('aborting mid-stream closes the connection (the server sees it) and rejects with the reason', async () => {
    server.chat = { tokens: Array.from({ length: 200 }, () => 'x '), paceMs: 10 };
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const d of reasoner().respond(input, context(controller.signal))) {
        seen.push(d);
        if (seen.length === 3) controller.abort(new Error('barge-in'));
      }
    })();
    await assert.rejects(done, /barge-in/);
    const request = server.requestsTo('/v1/chat/completions').at(-1)!;
    await server.waitFor(() => request.aborted, 2000, 'abort seen by the server');
  });

  test('a consumer that stops pulling stops the reading: the server stalls on a full socket until it pulls again', async () => {
    // 32 MB of deltas: far more than the socket buffers and fetch's own queue hold.
    const big = 'z'.repeat(64 * 1024);
    const total = 512;
    server.chat = { tokens: Array.from({ length: total }, () => big), paceMs: 0, flowControlled: true };
    const iterator = reasoner().respond(input, context())[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value, big);
    const request = server.requestsTo('/v1/chat/completions').at(-1)!;
    await server.waitFor(() => request.blockedOnDrain, 5000, 'the server to block on a full socket');
    // Absence of progress has no event to wait on: give a reading client ample time, then check
    // that the server is still stuck well short of the end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(request.ended, false);
    assert.equal(request.blockedOnDrain, true);
    assert.ok(request.deltasWritten < total / 2, `${request.deltasWritten} of ${total} deltas written while paused`);
    let count = 1;
    while (!(await iterator.next()).done) count += 1;
    assert.equal(count, total);
    await server.waitFor(() => request.ended, 5000, 'the server to finish');
  });

  test('breaking out of the iteration cancels the request', async () => {
    server.chat = { tokens: Array.from({ length: 100 }, () => 'y '), paceMs: 5 };
    const iterator = reasoner().respond(input, context())[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value, 'y ');
    const request = server.requestsTo('/v1/chat/completions').at(-1)!;
    await iterator.return?.(undefined);
    await server.waitFor(() => request.aborted, 2000, 'abort seen by the server');
  });
});

describe('parseEvents', () => {
  test('skips role-only and usage-only chunks and stops at [DONE]', () => {
    const state = { done: false, finished: false };
    const events = [
      { event: 'message', data: '{"choices":[{"delta":{"role":"assistant"}}]}' },
      { event: 'message', data: '{"choices":[{"delta":{"content":"x"},"finish_reason":null}]}' },
      { event: 'message', data: '{"choices":[],"usage":{"total_tokens":3}}' },
      { event: 'message', data: '{"choices":[{"delta":{},"finish_reason":"stop"}]}' },
      { event: 'message', data: '[DONE]' },
      { event: 'message', data: '{"choices":[{"delta":{"content":"after"}}]}' },
    ];
    assert.deepEqual([...parseEvents(events, state)], ['x']);
    assert.deepEqual(state, { done: true, finished: true });
  });

  test('rejects non-JSON and non-string content with VW_ERR_MALFORMED_STREAM', () => {
    const state = { done: false, finished: false };
    assert.throws(() => [...parseEvents([{ event: 'message', data: '{oops' }], state)], (e) => isVoicewireError(e, 'VW_ERR_MALFORMED_STREAM'));
    assert.throws(() => [...parseEvents([{ event: 'message', data: '{"choices":[{"delta":{"content":5}}]}' }], state)], (e) =>
      isVoicewireError(e, 'VW_ERR_MALFORMED_STREAM'),
    );
  });
});
