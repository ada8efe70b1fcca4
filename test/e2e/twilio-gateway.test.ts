/**
 * Issue 4, the gateway's defences on loopback: Twilio signatures on the webhook and the Media
 * Stream upgrade, a model that drops, and a caller that stops reading. (Twenty concurrent calls
 * with one fed garbage run for every transport in test/e2e/conformance/.)
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from './harness.js';
import { toneSamples } from '../fakes/twilio-caller.js';
import { computeSignature } from '../../src/transports/twilio/signature.js';
import { DEFAULT_SEND_CHUNK_MS } from '../../src/session/call-session-options.js';

describe('gateway defences', { concurrency: false }, () => {
  const running: RunningGateway[] = [];
  after(async () => {
    for (const r of running) await r.close();
  });

  test('with TWILIO_AUTH_TOKEN, webhook and upgrade need a valid X-Twilio-Signature', async () => {
    const token = 'twilio-auth-token-for-tests';
    const r = await startGateway({ TWILIO_AUTH_TOKEN: token }, { answerMs: 1_000 });
    running.push(r);
    const host = new URL(r.baseUrl).host;
    const form = { CallSid: 'CA' + '1'.repeat(32), From: '+15551234567', To: '+15557654321' };
    const body = new URLSearchParams(form).toString();
    const post = (signature?: string) =>
      fetch(`${r.baseUrl}/twilio/voice`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
        body,
      });
    const valid = await post(computeSignature(token, `https://${host}/twilio/voice`, form));
    assert.equal(valid.status, 200);
    assert.match(valid.headers.get('content-type') ?? '', /text\/xml/);
    const twiml = await valid.text();
    assert.match(twiml, new RegExp(`<Stream url="wss://${host}/twilio/media"`));
    assert.match(twiml, /<Parameter name="CallSid" value="CA1{32}"/);
    assert.equal((await post()).status, 403);
    assert.equal((await post(computeSignature('wrong-token', `https://${host}/twilio/voice`, form))).status, 403);

    const streamUrl = `wss://${host}/twilio/media`;
    const accepted = await r.call({ headers: { 'x-twilio-signature': computeSignature(token, streamUrl) } });
    assert.ok(accepted.isOpen);
    await assert.rejects(r.call({}), (err: { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(
      r.call({ headers: { 'x-twilio-signature': computeSignature(token, `${streamUrl}?x=1`) } }),
      (err: { statusCode?: number }) => err.statusCode === 403,
    );
    await accepted.stop();
  });

  test('a model socket that drops mid-answer is reconnected once; when the model stays away the call ends with 4010', async () => {
    // The fake drops the connection after 5 deltas: the reconnect heals it and the call goes on.
    // Then the model goes away for good (drop + refuse): the one reconnect fails, the call ends.
    const r = await startGateway({}, { answerMs: 10_000, speedFactor: 5, dropAfterDeltas: 5, drops: 1 });
    running.push(r);
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await r.model!.waitFor(() => r.model!.log.connections.length >= 2, 'a reconnect', 10_000);
    assert.ok(caller.isOpen, 'the call survived the first drop');
    r.model!.refuseConnections(503);
    r.model!.drop();
    await caller.waitForClose(15_000);
    console.log(`# model drop: ${r.model!.log.connections.length} model connections, caller closed with ${caller.closeInfo?.code} ${caller.closeInfo?.reason}`);
    assert.equal(caller.closeInfo?.code, 4010);
    assert.equal(caller.closeInfo?.reason, 'VW_ERR_MODEL_UNAVAILABLE');
    assert.equal(r.gateway.context.calls.size, 0);
  });

  test('a caller that stops reading is cut off and its call holds bounded memory', async () => {
    const r = await startGateway(
      { MAX_QUEUED_AUDIO_MS: '5000', HEARTBEAT_MS: '2000' },
      { answerMs: 20_000, speedFactor: 5 },
    );
    running.push(r);
    const caller = await r.call({ readPaused: true });
    let maxQueued = 0;
    let maxBufferedBytes = 0;
    let sawCall = false;
    const sampler = setInterval(() => {
      for (const call of r.gateway.context.calls) {
        const s = call.snapshot();
        sawCall = true;
        maxQueued = Math.max(maxQueued, s.queuedMs);
        maxBufferedBytes = Math.max(maxBufferedBytes, s.transportBufferedBytes);
      }
    }, 20);
    try {
      await caller.sendSpeech(toneSamples(400));
      const [call] = [...r.gateway.context.calls];
      assert.ok(call, 'the call is live');
      await r.model!.waitFor(() => r.model!.cancels.length >= 1, 'the response cancelled at the queue cap', 15_000);
      // Two missed heartbeats (2 s apart) end the call on the gateway's side.
      await withDeadline(call.ended, 15_000, 'the call to end');
    } finally {
      clearInterval(sampler);
    }
    console.log(`# paused caller: max queued ${maxQueued} ms (cap 5000), max bufferedAmount ${maxBufferedBytes} B, cancels ${r.model!.cancels.length}`);
    assert.ok(sawCall);
    assert.equal(r.gateway.context.calls.size, 0, 'the call was ended');
    // The queue's cap plus the one piece (≤ sendChunkMs) the sender holds while it waits for credit.
    assert.ok(maxQueued <= 5_000 + DEFAULT_SEND_CHUNK_MS, `queued ${maxQueued} ms`);
    assert.ok(maxBufferedBytes < 64 * 1024, `bufferedAmount ${maxBufferedBytes} B`);
    const metrics = await (await fetch(`${r.baseUrl}/metrics`)).text();
    assert.match(metrics, /voicewire_heartbeats_missed_total\{socket="twilio"\} 2/);
    assert.match(metrics, /voicewire_responses_cancelled_total\{reason="queue-cap"\} 1/);
  });
});

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
