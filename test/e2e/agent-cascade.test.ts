/**
 * Issue 10, the cascade end to end: fake Twilio caller ⇄ real gateway (MODEL_BACKEND=cascade) ⇄
 * fake OpenAI-compatible STT, LLM and TTS servers, with a tool from TOOLS_FILE on a fake tool
 * server. The LLM streams `tool_calls`; the gateway runs the tool; the output goes back to the LLM
 * as a `tool` message; the answer plays; the events carry the caller's transcript.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { FakeHttpEndpoint, jsonOf } from '../fakes/http-endpoint.js';
import { FakeOpenAiServer } from '../fakes/openai-compatible.js';
import { toolsFile } from './tools-file.js';
import type { CallEvent } from '../../src/agent/events.js';

describe('cascade tools through the gateway', { concurrency: false }, () => {
  const closers: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const c of closers) await c.close();
  });

  test('streamed tool_calls run the tool; its output reaches the LLM; the answer plays', async () => {
    const llm = await FakeOpenAiServer.start();
    closers.push(llm);
    const tools = await FakeHttpEndpoint.start(() => ({ status: 200, json: { output: { status: 'shipped' } } }));
    closers.push(tools);
    llm.stt = { text: 'where is my order' };
    llm.chatScript = [
      { text: 'Hello.', paceMs: 1 },
      { text: 'Let me check.', paceMs: 1, toolCalls: [{ id: 'call_7', name: 'lookup_order', arguments: '{"order_id":"A-1042"}' }] },
      { text: 'It has shipped.', paceMs: 1 },
    ];
    const events: CallEvent[] = [];
    const r: RunningGateway = await startGateway(
      {
        MODEL_BACKEND: 'cascade', LLM_URL: llm.url, STT_URL: llm.url, TTS_URL: llm.url,
        TOOLS_FILE: toolsFile([{ name: 'lookup_order', url: tools.url('/lookup') }]),
      },
      false,
      { onEvent: (event) => events.push(event) },
    );
    closers.push(r);
    const caller = await r.call();
    await caller.waitUntil(() => caller.playedMs > 0 && caller.bufferedMs === 0, 10_000, 'the greeting played');
    const greetingMs = caller.playedMs;
    await caller.sendSpeech(toneSamples(600));
    await tools.until(() => tools.requests.length === 1, 'the tool call', 10_000);
    assert.deepEqual(jsonOf(tools.requests[0]!), { callId: caller.callSid, toolCallId: 'call_7', name: 'lookup_order', arguments: { order_id: 'A-1042' } });
    await llm.waitFor(() => llm.requestsTo('/v1/chat/completions').length === 3, 10_000, 'the request after the tool');
    const third = llm.requestsTo('/v1/chat/completions')[2]!.json as { messages: Array<Record<string, unknown>> };
    assert.deepEqual(third.messages.at(-1), { role: 'tool', tool_call_id: 'call_7', content: '{"status":"shipped"}' });
    await caller.waitUntil(() => caller.playedMs > greetingMs && caller.bufferedMs === 0 && events.filter((e) => e.type === 'transcript.agent').length >= 3, 10_000, 'the answer played');
    const agentSaid = events.flatMap((e) => (e.type === 'transcript.agent' ? [e.text] : []));
    assert.deepEqual(agentSaid, ['Hello.', 'Let me check.', 'It has shipped.']);
    assert.deepEqual(events.filter((e) => e.type === 'transcript.caller').map((e) => (e.type === 'transcript.caller' ? e.text : '')), ['where is my order']);
    await caller.stop();
  });
});
