/**
 * Function calling through the cascade's OpenAI-compatible LLM stage: the call's tools go out as
 * `tools`, streamed `tool_calls` come back as ModelToolCalls once the response is done, and a
 * function's output goes into the history as a `tool` message answering its call, after the
 * assistant message that made it; with `respond` the LLM is asked again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import type { CascadeSession } from '../../../src/models/cascade/cascade-session.js';
import { createCascadeFactory } from '../../../src/models/cascade/factory.js';
import { parseEvents } from '../../../src/models/cascade/llm-openai.js';
import type { ModelToolCall } from '../../../src/models/model.js';
import { isVoicewireError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/server/logger.js';
import { FakeOpenAiServer } from '../../fakes/openai-compatible.js';
import { FakeTts, FakeVad, Harness, speak } from './harness.js';

const LOOKUP = { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } };

class ToolHarness extends Harness {
  readonly toolCallBatches: ModelToolCall[][] = [];
  readonly callerTexts: string[] = [];
  toolCalls(calls: readonly ModelToolCall[]): void {
    this.toolCallBatches.push([...calls]);
  }
  callerTranscript(_itemId: string | undefined, text: string): void {
    this.callerTexts.push(text);
  }
}

let server: FakeOpenAiServer;
before(async () => {
  server = await FakeOpenAiServer.start();
});
after(() => server.close());

function setup(): { cascade: CascadeSession; harness: ToolHarness; close(): void } {
  const factory = createCascadeFactory({
    stageTimeoutMs: 2000, logger: silentLogger(), tts: new FakeTts(24000, 5), llmUrl: server.url, llmModel: 'fake-llm',
    sttUrl: server.url, greet: false, createVad: ({ sampleRate }) => new FakeVad(sampleRate),
  });
  const cascade = factory({ callerFormat: TWILIO_FORMAT, callId: 'tools', settings: { instructions: 'You are the Acme desk.', tools: [LOOKUP] } }) as CascadeSession;
  const harness = new ToolHarness({ speed: 20 });
  harness.attachTo(cascade);
  return { cascade, harness, close: () => (cascade.close(), harness.stop()) };
}

interface WireRequest {
  messages: Array<Record<string, unknown>>;
  tools?: unknown;
  tool_choice?: unknown;
}

describe('cascade: function calling through the chat stage', () => {
  test('tools out, streamed tool_calls in, the output back as a tool message, then the answer', async () => {
    server.stt = { text: 'where is my order' };
    server.chatScript = [
      { text: 'Let me check.', paceMs: 1, toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: '{"order_id":"A-1042"}' }] },
      { text: 'It shipped on Friday.', paceMs: 1 },
    ];
    const s = setup();
    try {
      await s.cascade.connect();
      speak(s.cascade, TWILIO_FORMAT, 400);
      await s.harness.waitFor(() => s.harness.toolCallBatches.length === 1, 10_000, 'the tool call');
      const first = s.harness.log.find((e) => e.type === 'responseStarted');
      assert.ok(first?.type === 'responseStarted');
      assert.deepEqual(s.harness.toolCallBatches[0], [{ responseId: first.responseId, callId: 'call_1', name: 'lookup_order', arguments: '{"order_id":"A-1042"}' }]);
      assert.deepEqual(s.harness.callerTexts, ['where is my order']);
      const firstRequest = server.requestsTo('/v1/chat/completions').at(-1)!.json as WireRequest;
      assert.deepEqual(firstRequest.tools, [{ type: 'function', function: LOOKUP }]);
      assert.equal(firstRequest.tool_choice, 'auto');
      assert.deepEqual(firstRequest.messages[0], { role: 'system', content: 'You are the Acme desk.' });

      s.cascade.toolResult('call_1', '{"status":"shipped"}', true);
      await s.harness.waitFor(() => s.harness.log.filter((e) => e.type === 'responseDone').length === 2, 10_000, 'the answer');
      const second = server.requestsTo('/v1/chat/completions').at(-1)!.json as WireRequest;
      assert.deepEqual(second.messages.slice(1), [
        { role: 'user', content: 'where is my order' },
        { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order_id":"A-1042"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"status":"shipped"}' },
      ]);
    } finally {
      s.close();
    }
  });

  test('without respond the output is only recorded: no new request', async () => {
    server.stt = { text: 'check it' };
    server.chatScript = [{ text: '', paceMs: 1, toolCalls: [{ id: 'call_9', name: 'lookup_order', arguments: '{}' }] }];
    const s = setup();
    try {
      await s.cascade.connect();
      speak(s.cascade, TWILIO_FORMAT, 400);
      await s.harness.waitFor(() => s.harness.toolCallBatches.length === 1, 10_000, 'the tool call');
      const requests = server.requestsTo('/v1/chat/completions').length;
      s.cascade.toolResult('call_9', 'late', false);
      assert.equal(server.requestsTo('/v1/chat/completions').length, requests);
      assert.deepEqual(s.cascade.historyMessages().at(-1), { role: 'tool', content: 'late', toolCallId: 'call_9' });
    } finally {
      s.close();
    }
  });
});

describe('cascade: the setup\'s greeting', () => {
  test('is said word for word instead of the reasoner\'s greeting, with no LLM request', async () => {
    const factory = createCascadeFactory({
      stageTimeoutMs: 2000, logger: silentLogger(), tts: new FakeTts(24000, 5), llmUrl: server.url, createVad: ({ sampleRate }) => new FakeVad(sampleRate),
    });
    const cascade = factory({ callerFormat: TWILIO_FORMAT, callId: 'greeting' }) as CascadeSession;
    const harness = new ToolHarness({ speed: 20 });
    harness.attachTo(cascade);
    try {
      const before = server.requestsTo('/v1/chat/completions').length;
      await cascade.connect().then(() => cascade.greet('Welcome to Acme.'));
      await harness.waitFor(() => harness.log.some((e) => e.type === 'responseDone'), 5_000, 'the greeting');
      const id = harness.responses()[0]!;
      assert.equal(harness.said(id).trim(), 'Welcome to Acme.');
      assert.equal(harness.responses().length, 1, 'the reasoner\'s own greeting never started');
      assert.equal(server.requestsTo('/v1/chat/completions').length, before);
    } finally {
      cascade.close();
      harness.stop();
    }
  });
});

describe('parseEvents: streamed tool_calls', () => {
  const chunk = (delta: unknown, finish: string | null = null) => ({ event: 'message', data: JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] }) });

  test('pieces are folded by index; text deltas still come out', () => {
    const state: Parameters<typeof parseEvents>[1] = { done: false, finished: false };
    const text = [...parseEvents([
      chunk({ content: 'One moment.' }),
      chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }, { index: 1, function: { arguments: '}' } }] }),
      chunk({}, 'tool_calls'),
    ], state)];
    assert.deepEqual(text, ['One moment.']);
    assert.deepEqual([...state.toolCalls!.values()], [{ id: 'a', name: 'f', arguments: '{"x":1}' }, { id: 'b', name: 'g', arguments: '{}' }]);
  });

  test('a tool call without an index, or a ninth one, is a malformed stream', () => {
    const state = { done: false, finished: false };
    assert.throws(() => [...parseEvents([chunk({ tool_calls: [{ id: 'a' }] })], state)], (err) => isVoicewireError(err, 'VW_ERR_MALFORMED_STREAM'));
    const many = Array.from({ length: 9 }, (_, index) => ({ index, id: `c${index}`, function: { name: 'f', arguments: '' } }));
    assert.throws(() => [...parseEvents([chunk({ tool_calls: many })], { done: false, finished: false })], (err) => isVoicewireError(err, 'VW_ERR_MALFORMED_STREAM'));
  });
});
