/**
 * Issue 10, end to end: per-call setup (CALL_SETUP_URL) and call control. A fake setup webhook, a
 * fake Twilio REST API, the fake Realtime server and fake Twilio callers, all on loopback, through
 * the real gateway. `end_call` and `transfer_call` must wait for the caller to have *heard* the last
 * words (played-ACKs), and no longer than that.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples, type FakeTwilioCaller } from '../fakes/twilio-caller.js';
import { FakeHttpEndpoint, jsonOf, type Reply } from '../fakes/http-endpoint.js';
import { FakeTwilioRest } from '../fakes/twilio-rest.js';
import { computeSignature } from '../../src/transports/twilio/signature.js';

const PARAMS = { From: '+15550001111', To: '+15550002222' };

/** When the caller's last sample finished playing (the caller's clock), once its buffer ran dry. */
function lastSampleAt(caller: FakeTwilioCaller): number | undefined {
  return caller.dryPeriods.filter((d) => d.cause === 'drained').at(-1)?.start;
}

describe('per-call setup and call control through the gateway', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  const closers: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const r of running) await r.close();
    for (const c of closers) await c.close();
  });

  async function setupServer(reply: Reply): Promise<FakeHttpEndpoint> {
    const server = await FakeHttpEndpoint.start(() => reply);
    closers.push(server);
    return server;
  }

  test('setup: per-call instructions, voice and tools reach session.update; the request carries the call', async () => {
    const setup = await setupServer({
      status: 200,
      json: {
        instructions: 'You are the Acme order desk.', voice: 'cedar', endCall: true, greeting: 'Acme orders, how can I help?',
        tools: [{ name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' }, url: 'http://127.0.0.1:9/lookup' }],
      },
    });
    const r = await startGateway({ CALL_SETUP_URL: setup.url('/setup') }, { answerMs: 500 });
    running.push(r);
    const caller = await r.call({ customParameters: PARAMS });
    await r.model!.waitFor(() => r.model!.log.sessionUpdates.length >= 1, 'session.update', 5_000);
    const session = r.model!.log.sessionUpdates[0] as { instructions: string; audio: { output: { voice: string } }; tools: Array<{ name: string }> };
    assert.equal(session.instructions, 'You are the Acme order desk.');
    assert.equal(session.audio.output.voice, 'cedar');
    assert.deepEqual(session.tools.map((t) => t.name), ['lookup_order', 'end_call']);
    assert.deepEqual(jsonOf(setup.requests[0]!), { callId: caller.callSid, transport: 'twilio', from: PARAMS.From, to: PARAMS.To, parameters: PARAMS });
    // The greeting: one response asked for at once, whose instructions carry it.
    await r.model!.waitFor(() => r.model!.received.some((e) => e.type === 'response.create'), 'the greeting', 5_000);
    const create = r.model!.received.find((e) => e.type === 'response.create')!;
    assert.match(JSON.stringify(create.event), /Acme orders, how can I help\?/);
    await caller.waitUntil(() => caller.playedMs >= 500, 5_000, 'the greeting played');
    await caller.stop();
  });

  for (const [what, reply, outcome] of [['a 500', { status: 500, text: 'down' }, 'status'], ['no answer', 'hang', 'timeout']] as const) {
    test(`setup: a setup endpoint giving ${what} → the defaults, counted as ${outcome}`, async () => {
      const setup = await setupServer(reply);
      const r = await startGateway({ CALL_SETUP_URL: setup.url('/setup'), CALL_SETUP_TIMEOUT_MS: '300' }, { answerMs: 500 });
      running.push(r);
      const startedAt = performance.now();
      const caller = await r.call({ customParameters: PARAMS });
      await r.model!.waitFor(() => r.model!.log.sessionUpdates.length >= 1, 'session.update', 5_000);
      const waitedMs = r.model!.log.connections[0]!.at - startedAt;
      const session = r.model!.log.sessionUpdates[0] as { instructions: string; audio: { output: { voice: string } }; tools?: unknown };
      assert.equal(session.instructions, r.config.openai.instructions);
      assert.equal(session.audio.output.voice, 'marin');
      assert.equal(session.tools, undefined);
      const metrics = await (await fetch(`${r.baseUrl}/metrics`)).text();
      assert.match(metrics, new RegExp(`voicewire_call_setups_total\\{outcome="${outcome}"\\} 1`));
      console.log(`# setup ${what}: model connected with the defaults ${waitedMs.toFixed(0)} ms after the call started`);
      if (outcome === 'timeout') assert.ok(waitedMs >= 300 && waitedMs < 1_000, `${waitedMs} ms`);
      await caller.stop();
    });
  }

  test('setup: reject ends the call at once with 4022 and never opens the model', async () => {
    const setup = await setupServer({ status: 200, json: { reject: true } });
    const r = await startGateway({ CALL_SETUP_URL: setup.url('/setup') }, { answerMs: 500 });
    running.push(r);
    const caller = await r.call({ customParameters: PARAMS });
    const closed = await caller.waitForClose(5_000);
    assert.deepEqual(closed, { code: 4022, reason: 'VW_ERR_CALL_REJECTED' });
    assert.equal(r.model!.log.connections.length, 0);
  });

  test('end_call after a 4 s goodbye: the caller hears all 4 s, then the stream closes', async () => {
    const setup = await setupServer({ status: 200, json: { endCall: true } });
    const r = await startGateway(
      { CALL_SETUP_URL: setup.url('/setup') },
      { speedFactor: 10, detectionDelayMs: 100, script: [{ audioMs: 4_000, text: 'Thanks for calling Acme, goodbye.', functionCall: { name: 'end_call', arguments: '{}' } }] },
    );
    running.push(r);
    const caller = await r.call({ customParameters: PARAMS });
    await caller.sendSpeech(toneSamples(400));
    const closed = await caller.waitForClose(15_000);
    const closeAt = caller.closeInfo!.at;
    const lastAt = lastSampleAt(caller);
    console.log(`# end_call: goodbye played ${caller.playedMs} of 4000 ms; stream closed ${lastAt === undefined ? '?' : (closeAt - lastAt).toFixed(1)} ms after the last sample played`);
    assert.deepEqual(closed, { code: 1000, reason: 'end_call' });
    assert.equal(caller.playedMs, 4_000, 'the whole goodbye played');
    assert.ok(lastAt !== undefined && closeAt >= lastAt && closeAt - lastAt <= 300, `close ${closeAt} vs last sample ${lastAt}`);
    assert.equal(r.model!.log.functionOutputs.length, 0, 'nothing more is asked of the model');
  });

  test('transfer_call: Twilio REST gets the Dial TwiML once the last words played, then Twilio ends the stream', async () => {
    const accountSid = `AC${randomBytes(16).toString('hex')}`;
    const callSid = `CA${randomBytes(16).toString('hex')}`;
    const authToken = 'twilio-auth-token-for-tests';
    // Twilio ends the stream once the call is redirected: the fake REST API does it to the caller.
    const live: { caller?: FakeTwilioCaller } = {};
    const rest = await FakeTwilioRest.start({ accountSid, authToken, onUpdate: () => void live.caller?.stop() });
    closers.push(rest);
    rest.liveCalls.add(callSid);
    const setup = await setupServer({ status: 200, json: { transfer: { to: '+15551230000' } } });
    const r = await startGateway(
      { CALL_SETUP_URL: setup.url('/setup'), TWILIO_AUTH_TOKEN: authToken, TWILIO_ACCOUNT_SID: accountSid, TWILIO_API_URL: rest.url },
      { speedFactor: 10, detectionDelayMs: 100, script: [{ audioMs: 2_000, text: 'Transferring you to a colleague now.', functionCall: { name: 'transfer_call', arguments: '{}' } }] },
    );
    running.push(r);
    const host = new URL(r.baseUrl).host;
    const caller = await r.call({ callSid, customParameters: PARAMS, headers: { 'x-twilio-signature': computeSignature(authToken, `wss://${host}/twilio/media`) } });
    live.caller = caller;
    const t0 = performance.now() - caller.now();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitForClose(15_000);
    assert.equal(rest.updates.length, 1);
    const update = rest.updates[0]!;
    assert.equal(update.callSid, callSid);
    assert.equal(update.twiml, '<Response><Dial>+15551230000</Dial></Response>');
    const lastAt = lastSampleAt(caller)!;
    const restAt = update.at - t0;
    console.log(`# transfer_call: last words played ${caller.playedMs} of 2000 ms; REST update ${(restAt - lastAt).toFixed(1)} ms after the last sample played`);
    assert.equal(caller.playedMs, 2_000);
    assert.ok(restAt >= lastAt && restAt - lastAt <= 300, `REST at ${restAt}, last sample ${lastAt}`);
  });
});
