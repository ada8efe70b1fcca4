/**
 * Issue 10, the library API end to end: `buildGateway(config, logger, { setupCall, tools,
 * onEvent })` with the real gateway on loopback. A browser call is transferred (`transfer`
 * message after the last words played, then close 1000); a Twilio call runs an in-process tool.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { concat, silence, tone } from './browser/audio.js';
import { connectFakeBrowser } from './browser/session.js';
import type { CallEvent } from '../../src/agent/events.js';
import type { CallSetupRequest } from '../../src/agent/call-setup.js';

const FRAME_MS = 20;

describe('the library API: setupCall, tools and onEvent', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  after(async () => {
    for (const r of running) await r.close();
  });

  test('browser: transfer_call sends `transfer` once the last words played, then closes 1000', async () => {
    const events: CallEvent[] = [];
    const requests: CallSetupRequest[] = [];
    const r = await startGateway(
      {},
      { speedFactor: 5, detectionDelayMs: 100, script: [{ audioMs: 1_500, text: 'Let me put you through.', functionCall: { name: 'transfer_call', arguments: '{}' } }] },
      {
        setupCall: (request) => {
          requests.push(request);
          return { transfer: { to: 'sip:desk@pbx.example.com' } };
        },
        onEvent: (event) => events.push(event),
      },
    );
    running.push(r);
    const client = await connectFakeBrowser(r.baseUrl, { parameters: { account: 'gold' } });
    await client.sendMic(concat([tone(16_000, 400, 300, 9000), silence(16_000, 700)]));
    await client.waitUntil(() => client.messages.some((m) => m.type === 'transfer'), 10_000, 'the transfer message');
    const playedAtTransfer = client.playedByEpoch.get(0) ?? 0;
    const closed = await client.closed;
    console.log(`# browser transfer: ${playedAtTransfer.toFixed(0)} of 1500 ms played when \`transfer\` arrived`);
    assert.deepEqual(client.messages.find((m) => m.type === 'transfer'), { type: 'transfer', to: 'sip:desk@pbx.example.com' });
    assert.ok(playedAtTransfer >= 1_500 - FRAME_MS, `the last words had played (${playedAtTransfer} ms)`);
    assert.deepEqual(closed, { code: 1000, reason: 'transfer' });
    assert.equal(requests[0]!.transport, 'browser');
    assert.equal(requests[0]!.parameters.account, 'gold');
    const types = events.map((e) => e.type);
    assert.deepEqual(types.filter((t) => t.startsWith('tool.')), ['tool.called', 'tool.result']);
    assert.equal(types.at(-1), 'call.ended');
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  });

  test('Twilio: an in-process tool gets the arguments; its output goes to the model; the answer plays', async () => {
    const events: CallEvent[] = [];
    const r = await startGateway(
      {},
      { speedFactor: 10, detectionDelayMs: 100, script: [{ audioMs: 0, functionCall: { name: 'add', arguments: '{"a":2,"b":3}' } }, { audioMs: 500, text: 'Five.' }] },
      {
        tools: [{ name: 'add', description: 'Adds two numbers', parameters: { type: 'object' }, run: (args) => ({ sum: (args as { a: number; b: number }).a + (args as { a: number; b: number }).b }) }],
        onEvent: (event) => events.push(event),
      },
    );
    running.push(r);
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, 10_000, 'the answer');
    assert.deepEqual(r.model!.log.functionOutputs.map((o) => o.output), ['{"sum":5}']);
    const result = events.find((e) => e.type === 'tool.result');
    assert.ok(result?.type === 'tool.result' && result.ok && result.output === '{"sum":5}' && result.name === 'add');
    await caller.stop();
  });
});
