/**
 * Issue 13: one conformance suite for every model backend, each against its protocol-faithful fake
 * (VAD on appended audio, answers faster than real time, interruption per its protocol), with the
 * real gateway and a fake Twilio caller on loopback. The flow control is model-independent; this
 * proves it per backend:
 *
 * - a 20 s answer: buffered at the caller ≤ window + one frame, no underrun while the model speaks;
 * - barge-in 3 s in: stale audio ≤ the fake's VAD delay + 40 ms, the model stopped and told what
 *   the caller heard;
 * - the model socket dropping mid-answer: the call reconnects and goes on, or ends with a code;
 * - malformed model events: coded errors, and the call goes on;
 * - a tool round trip in the backend's own function calling: arguments in, the output back to the
 *   model, the next answer plays; a failing tool gives the model a failure output.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../harness.js';
import { toneSamples, type FakeTwilioCaller } from '../../fakes/twilio-caller.js';
import { FakeHttpEndpoint, jsonOf, type Reply } from '../../fakes/http-endpoint.js';
import { toolsFile } from '../tools-file.js';
import { BACKENDS, type BackendFake, type FakeAnswerOptions } from './backends.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
const DETECTION_DELAY_MS = 100;

function underrunsWhileSpeaking(caller: FakeTwilioCaller): number {
  const media = caller.received.toArray().filter((r) => r.event === 'media');
  const last = media.at(-1)?.at ?? 0;
  return caller.underruns.filter((u) => u.start < last).length;
}

for (const backend of BACKENDS) {
  describe(`model conformance: ${backend.name}`, { concurrency: false }, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    async function setUp(
      options: Partial<FakeAnswerOptions> = {},
      env: Record<string, string> = {},
    ): Promise<{ fake: BackendFake; gateway: RunningGateway; caller: FakeTwilioCaller }> {
      const fake = await backend.start({ answerMs: 20_000, speedFactor: 5, detectionDelayMs: DETECTION_DELAY_MS, ...options });
      cleanups.push(() => fake.close());
      const gateway = await startGateway({ ...fake.env, ...env }, false);
      cleanups.push(() => gateway.close());
      const caller = await gateway.call();
      return { fake, gateway, caller };
    }

    test('a 20 s answer produced at 5× real time stays within the credit window with no underrun', async () => {
      const { caller } = await setUp();
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 19_900, 40_000, '20 s played');
      const max = caller.maxBufferedMs;
      const underruns = underrunsWhileSpeaking(caller);
      console.log(`# ${backend.name} 20 s answer: max buffered at caller ${max} ms (window ${WINDOW_MS}), underruns while speaking ${underruns}`);
      assert.ok(max <= WINDOW_MS + FRAME_MS, `caller buffered ${max} ms`);
      assert.ok(max >= WINDOW_MS - 4 * FRAME_MS, `the window is used (${max} ms)`);
      assert.equal(underruns, 0);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });

    test('barge-in 3 s into an answer: stale audio bounded, the model stopped and told what was heard', async () => {
      const { fake, caller } = await setUp();
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 3_000, 10_000, '3 s played');
      const speechStartsAt = caller.now();
      const speaking = caller.sendSpeech(toneSamples(1_000));
      await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'clear');
      const staleMs = caller.heardSince(speechStartsAt);
      const playedAtClear = caller.playedMs;
      await fake.until(() => fake.heardReports().length >= 1 && fake.stopsHonoured() >= 1, 'model told', 5_000);
      const report = fake.heardReports()[0]!;
      console.log(`# ${backend.name} barge-in: stale audio ${staleMs.toFixed(0)} ms (bound ${DETECTION_DELAY_MS + 40}), heard ${playedAtClear.toFixed(0)} ms; model told: ${report}`);
      assert.ok(staleMs <= DETECTION_DELAY_MS + 40, `stale audio heard after speech began: ${staleMs} ms`);
      assert.equal(fake.stopsHonoured(), 1, 'the model stopped generating once');
      await speaking;
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });

    test('barge-in after the model finished generating: the caller is still cleared and the model told what was heard', async () => {
      // 10 s at 10× is generated in 1 s; the caller is 3 s into it with 7 s still held by the gateway.
      const { fake, caller } = await setUp({ answerMs: 10_000, speedFactor: 10 });
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 3_000, 10_000, '3 s played');
      const speechStartsAt = caller.now();
      const speaking = caller.sendSpeech(toneSamples(1_000));
      await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'clear');
      const staleMs = caller.heardSince(speechStartsAt);
      await fake.until(() => fake.heardReports().length >= 1, 'model told what was heard', 5_000);
      console.log(`# ${backend.name} barge-in after generation: stale audio ${staleMs.toFixed(0)} ms (bound ${DETECTION_DELAY_MS + 40}); model told: ${fake.heardReports()[0]}`);
      assert.ok(staleMs <= DETECTION_DELAY_MS + 40, `stale audio heard after speech began: ${staleMs} ms`);
      await speaking;
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });

    test('the model socket dropping mid-answer: reconnect and the call goes on', async () => {
      const { fake, caller } = await setUp({ answerMs: 4_000, dropAfterChunks: 10 });
      await caller.sendSpeech(toneSamples(400));
      await fake.until(() => fake.connections() >= 2, 'reconnect', 10_000);
      // The audio queued before the drop still plays; then a new question gets a new answer.
      await caller.waitUntil(() => caller.playedMs >= 900, 10_000, 'audio before the drop played');
      const before = caller.playedMs;
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= before + 3_000, 20_000, 'an answer after the reconnect');
      console.log(`# ${backend.name} drop mid-answer: ${fake.connections()} model connections, caller played ${caller.playedMs.toFixed(0)} ms, still open ${caller.isOpen}`);
      assert.ok(caller.isOpen, 'the call went on');
      await caller.stop();
    });

    test('malformed model events are coded errors and the call goes on', async () => {
      const { fake, gateway, caller } = await setUp({ answerMs: 2_000 });
      await fake.until(() => fake.connections() >= 1, 'model connected', 5_000);
      const sent = fake.sendMalformed();
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 1_900, 15_000, 'answer after malformed events');
      const errors = await modelErrors(gateway);
      console.log(`# ${backend.name} malformed: ${sent} sent, model errors counted ${errors}, caller open ${caller.isOpen}`);
      assert.ok(caller.isOpen);
      assert.equal(errors, sent, `coded model errors counted: ${errors}`);
      await caller.stop();
    });

    async function toolServer(path: string, reply: Reply): Promise<FakeHttpEndpoint> {
      const server = await FakeHttpEndpoint.start((request) => (request.path === path ? reply : { status: 404, json: { error: 'no such tool' } }));
      cleanups.push(() => server.close());
      return server;
    }

    test('a tool round trip: arguments in, output back to the model, the next answer plays', async () => {
      const tools = await toolServer('/lookup', { status: 200, json: { output: { status: 'shipped', eta: 'Friday' } } });
      const { fake, caller } = await setUp(
        { answerMs: 2_000, toolCall: { name: 'lookup_order', args: { order_id: 'A-1042' } } },
        { TOOLS_FILE: toolsFile([{ name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' }, url: tools.url('/lookup') }]) },
      );
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 1_900, 15_000, 'the answer after the tool');
      const [call] = fake.toolCalls();
      const [result] = fake.toolResults();
      assert.ok(call !== undefined && result !== undefined, 'one call and its result');
      const roundTripMs = result.at - call.at;
      console.log(`# ${backend.name} tool round trip (function call → output back at the model, tool answering at once over HTTP): ${roundTripMs.toFixed(1)} ms`);
      assert.deepEqual(JSON.parse(call.text), { order_id: 'A-1042' });
      assert.equal(tools.requests.length, 1);
      assert.deepEqual(jsonOf<{ arguments: unknown }>(tools.requests[0]!).arguments, { order_id: 'A-1042' });
      assert.deepEqual(JSON.parse(result.text), { status: 'shipped', eta: 'Friday' });
      assert.equal(fake.toolResults().length, 1, 'answered once');
      assert.ok(roundTripMs < 200, `round trip ${roundTripMs} ms`);
      assert.ok(caller.isOpen);
      await caller.stop();
    });

    test('a failing tool gives the model a failure output and the next answer plays', async () => {
      const tools = await toolServer('/broken', { status: 500, json: { error: 'database down' } });
      const { fake, caller } = await setUp(
        { answerMs: 1_000, toolCall: { name: 'broken', args: {} } },
        { TOOLS_FILE: toolsFile([{ name: 'broken', url: tools.url('/broken') }]) },
      );
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 900, 15_000, 'the answer after the failed tool');
      const [result] = fake.toolResults();
      assert.ok(result !== undefined, 'a result was sent');
      const output = JSON.parse(result.text) as { error?: unknown };
      console.log(`# ${backend.name} failing tool: model got ${result.text}`);
      assert.equal(typeof output.error, 'string');
      assert.match(String(output.error), /broken/);
      await caller.stop();
    });
  });
}

async function modelErrors(gateway: RunningGateway): Promise<number> {
  const text = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('voicewire_model_errors_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
