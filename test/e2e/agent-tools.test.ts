/**
 * Issue 10, end to end on loopback: fake Twilio caller ⇄ real gateway ⇄ fake Realtime server with
 * GA function calling, and a fake tool server. Tools come from TOOLS_FILE; every tool call goes
 * over HTTP and its output back to the model; failures become outputs the model can speak about;
 * a barge-in while a tool runs drops the old answer and no response is started over the caller.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { FakeHttpEndpoint, jsonOf, type Reply } from '../fakes/http-endpoint.js';
import { toolsFile } from './tools-file.js';

const LOOKUP_ARGS = '{"order_id":"A-1042"}';

describe('tools through the gateway (Twilio ⇄ Realtime)', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  const endpoints: FakeHttpEndpoint[] = [];
  after(async () => {
    for (const r of running) await r.close();
    for (const e of endpoints) await e.close();
  });

  async function toolServer(replies: Record<string, Reply>): Promise<FakeHttpEndpoint> {
    const server = await FakeHttpEndpoint.start((request) => replies[request.path] ?? { status: 404, json: { error: 'no such tool' } });
    endpoints.push(server);
    return server;
  }

  test('a tool round trip: arguments in, output back to the model, the next answer plays', async () => {
    const tools = await toolServer({ '/lookup': { status: 200, json: { output: { status: 'shipped', eta: 'Friday' } } } });
    const lookup = { name: 'lookup_order', arguments: LOOKUP_ARGS };
    const r = await startGateway(
      { TOOLS_FILE: toolsFile([{ name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' }, url: tools.url('/lookup') }]) },
      // Two rounds: the first pays for the HTTP connection, the second shows the steady state.
      { speedFactor: 10, detectionDelayMs: 100, script: [{ audioMs: 0, functionCall: lookup }, { audioMs: 0, functionCall: lookup }, { audioMs: 1_000, text: 'It ships Friday.' }] },
    );
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 1_000, 10_000, 'the answer after the tool');

    const session = model.log.sessionUpdates[0] as { tools: unknown };
    assert.deepEqual(session.tools, [{ type: 'function', name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' } }]);
    const calls = model.log.functionCalls;
    assert.equal(tools.requests.length, 2);
    assert.deepEqual(jsonOf(tools.requests[0]!), { callId: caller.callSid, toolCallId: calls[0]!.callId, name: 'lookup_order', arguments: { order_id: 'A-1042' } });
    assert.deepEqual(model.log.functionOutputs.map((o) => [o.callId, o.output]), calls.map((c) => [c.callId, '{"status":"shipped","eta":"Friday"}']));
    const order = model.received.map((e) => e.type).filter((t) => t === 'conversation.item.create' || t === 'response.create');
    // The server VAD answers the caller's turn (create_response); the gateway asks for one answer per tool output.
    assert.deepEqual(order, ['conversation.item.create', 'response.create', 'conversation.item.create', 'response.create']);
    // The tool answers at once, so each round trip is the gateway's and HTTP's overhead.
    const overheads = model.log.functionOutputs.map((output, i) => output.at - calls[i]!.at);
    console.log(`# tool round trip (model's function call → output back at the model, tool answering at once): first ${overheads[0]!.toFixed(1)} ms (new HTTP connection), then ${overheads[1]!.toFixed(1)} ms`);
    assert.ok(overheads.every((ms) => ms < 200), `round trip overheads ${overheads.join(', ')} ms`);
    await caller.stop();
  });

  test('a tool past its deadline, a failing tool and an oversized answer all give the model a failure output', async () => {
    const tools = await toolServer({
      '/slow': { status: 200, json: { output: 'too late' }, delayMs: 3_000 },
      '/broken': { status: 500, json: { error: 'database down' } },
      '/huge': { status: 200, json: { output: 'x'.repeat(70 * 1024) } },
    });
    const r = await startGateway(
      {
        TOOLS_FILE: toolsFile([
          { name: 'slow', url: tools.url('/slow'), timeoutMs: 300 },
          { name: 'broken', url: tools.url('/broken') },
          { name: 'huge', url: tools.url('/huge') },
        ]),
      },
      {
        speedFactor: 10, detectionDelayMs: 100,
        script: [
          { audioMs: 0, functionCall: { name: 'slow', arguments: '{}' } },
          { audioMs: 0, functionCall: { name: 'broken', arguments: '{}' } },
          { audioMs: 0, functionCall: { name: 'huge', arguments: '{}' } },
          { audioMs: 600, text: 'Sorry, I cannot look that up right now.' },
        ],
      },
    );
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 600, 10_000, 'the apology after three failures');
    const outputs = model.log.functionOutputs.map((o) => JSON.parse(o.output) as { error: string });
    assert.deepEqual(outputs.map((o) => /failed \(([a-z-]+)\)/.exec(o.error)?.[1]), ['timeout', 'status', 'too-large']);
    const [slowCall] = model.log.functionCalls;
    const slowMs = model.log.functionOutputs[0]!.at - slowCall!.at;
    console.log(`# tool deadline 300 ms: failure output reached the model after ${slowMs.toFixed(0)} ms`);
    assert.ok(slowMs >= 300 && slowMs < 600, `deadline honoured: ${slowMs} ms`);
    // One per failure output (the turn's own answer is the server VAD's).
    assert.equal(model.received.filter((e) => e.type === 'response.create').length, 3, 'each failure output is answered');
    await caller.stop();
  });

  test('barge-in while a tool runs: the old answer is dropped, the late result is added, no response over the caller', async () => {
    const tools = await toolServer({ '/lookup': { status: 200, json: { output: 'found it' }, delayMs: 1_500 } });
    const r = await startGateway(
      { TOOLS_FILE: toolsFile([{ name: 'lookup_order', url: tools.url('/lookup') }]) },
      {
        speedFactor: 10, detectionDelayMs: 100, interruptResponse: false,
        script: [{ audioMs: 4_000, text: 'Let me look that up for you while you wait a moment.', functionCall: { name: 'lookup_order', arguments: LOOKUP_ARGS } }],
      },
    );
    running.push(r);
    const model = r.model!;
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await model.waitFor(() => model.log.functionCalls.length === 1, 'the tool call', 10_000);
    await caller.waitUntil(() => caller.playedMs >= 1_000, 10_000, 'the first second of the old answer');
    assert.equal(model.log.functionOutputs.length, 0, 'the tool is still running');
    const bargeAt = caller.now();
    const speaking = caller.sendSpeech(toneSamples(2_000));
    await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'the clear');
    await model.waitFor(() => model.log.functionOutputs.length === 1, 'the late tool output', 5_000);
    const whileSpeaking = caller.speaking;
    await speaking;
    const stale = caller.heardSince(bargeAt);
    console.log(`# barge-in during a tool: old answer heard ${caller.playedMs.toFixed(0)} of 4000 ms, stale after speech ${stale.toFixed(0)} ms, late output added while the caller ${whileSpeaking ? 'was still speaking' : 'had stopped'}`);
    assert.ok(whileSpeaking, 'the result arrived during the caller\'s speech');
    assert.ok(caller.playedMs < 2_000, `the old answer was dropped (played ${caller.playedMs} ms)`);
    assert.ok(stale <= 140, `stale audio after the barge-in: ${stale} ms`);
    assert.equal(model.log.functionOutputs[0]!.output, 'found it');
    // The first turn was the server VAD's to answer; the late tool output asks for none.
    const types = model.received.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'response.create').length, 0, 'no response.create over the caller');
    await caller.stop();
  });
});
