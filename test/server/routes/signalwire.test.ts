import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../../e2e/harness.js';
import { connectSignalWireCaller } from '../../fakes/signalwire-caller.js';
import { toneSamples } from '../../fakes/twilio-caller.js';
import { computeSignature } from '../../../src/transports/twilio/signature.js';

void describe('SignalWire routes: cXML answer, signing key, stream bearer token', () => {
  const key = 'PSK_signing_key_for_tests';
  const token = 'signalwire-stream-token';
  let r: RunningGateway;
  after(async () => r?.close());

  void test('a signed webhook gets cXML connecting the stream with its bearer token; unsigned or forged ones get 403', async () => {
    r = await startGateway({ SIGNALWIRE_SIGNING_KEY: key, SIGNALWIRE_STREAM_TOKEN: token }, { answerMs: 2_000, speedFactor: 5 });
    const host = new URL(r.baseUrl).host;
    const form = { CallSid: '19e436af-5688-4307-b03b-bdb2b42b8142', AccountSid: '446e9986-0848-4d46-a617-48793c41f5a3', From: '+15551234567', To: '+15557654321' };
    const post = (headers: Record<string, string>) =>
      fetch(`${r.baseUrl}/signalwire/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString(), signal: AbortSignal.timeout(5_000) });
    const ok = await post({ 'x-signalwire-signature': computeSignature(key, `https://${host}/signalwire/voice`, form) });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/xml/);
    assert.match(await ok.text(), new RegExp(`<Connect><Stream url="wss://${host}/signalwire/media" authBearerToken="${token}"><Parameter name="CallSid" value="${form.CallSid}"/>`));
    assert.equal((await post({ 'x-twilio-signature': computeSignature(key, `https://${host}/signalwire/voice`, form) })).status, 200, 'the compatibility header is accepted too');
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ 'x-signalwire-signature': computeSignature('wrong', `https://${host}/signalwire/voice`, form) })).status, 403);
  });

  void test('the media upgrade needs Authorization: Bearer <stream token>, and then carries a call', async () => {
    const url = `${r.baseUrl.replace(/^http/, 'ws')}/signalwire/media`;
    await assert.rejects(connectSignalWireCaller(url), (err: { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(connectSignalWireCaller(url, { headers: { authorization: 'Bearer wrong' } }), (err: { statusCode?: number }) => err.statusCode === 403);
    const caller = await connectSignalWireCaller(url, { headers: { authorization: `Bearer ${token}` } });
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, 10_000, 'the answer plays');
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });
});
