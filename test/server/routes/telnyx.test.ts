import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../../e2e/harness.js';
import { connectTelnyxCaller } from '../../fakes/telnyx-caller.js';
import { toneSamples } from '../../fakes/twilio-caller.js';
import { telnyxKeyPair } from '../../helpers/telnyx-keys.js';

void describe('Telnyx routes: TeXML answer, Ed25519 webhook signature, stream token', () => {
  const keys = telnyxKeyPair();
  const token = 'telnyx-stream-token-for-tests';
  let r: RunningGateway;
  after(async () => r?.close());

  void test('a signed webhook gets TeXML that connects a bidirectional RTP PCMU stream; unsigned or forged ones get 403', async () => {
    r = await startGateway({ TELNYX_PUBLIC_KEY: keys.publicKeyBase64, TELNYX_STREAM_TOKEN: token }, { answerMs: 2_000, speedFactor: 5 });
    const host = new URL(r.baseUrl).host;
    const body = new URLSearchParams({ CallSid: 'v3:abc-DEF_1', AccountSid: 'f5586561-8ff0-4291-a51b-c7dfe4139ff9', From: '+13122010094', To: '+13122123456' }).toString();
    const post = (headers: Record<string, string>) =>
      fetch(`${r.baseUrl}/telnyx/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, signal: AbortSignal.timeout(5_000) });
    const ts = String(Math.floor(Date.now() / 1000));
    const ok = await post({ 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': keys.sign(ts, body) });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /text\/xml/);
    const texml = await ok.text();
    assert.match(texml, new RegExp(`<Response><Connect><Stream url="wss://${host}/telnyx/media" bidirectionalMode="rtp" bidirectionalCodec="PCMU">`));
    assert.match(texml, /<Parameter name="CallSid" value="v3:abc-DEF_1"\/>/);

    assert.equal((await post({})).status, 403, 'unsigned');
    assert.equal((await post({ 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': keys.sign(String(Number(ts) - 1), body) })).status, 403, 'signed over another timestamp');
    const stale = String(Number(ts) - 600);
    assert.equal((await post({ 'telnyx-timestamp': stale, 'telnyx-signature-ed25519': keys.sign(stale, body) })).status, 403, 'replayed 10 minutes later');
    const refused = await post({ 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': telnyxKeyPair().sign(ts, body) });
    assert.equal(refused.status, 403, 'another key');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'VW_ERR_BAD_SIGNATURE');
  });

  void test('the media upgrade needs the stream token when one is configured, and then carries a call', async () => {
    const url = `${r.baseUrl.replace(/^http/, 'ws')}/telnyx/media`;
    await assert.rejects(connectTelnyxCaller(url), (err: { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(connectTelnyxCaller(url, { headers: { 'x-telnyx-streaming-auth-token': 'wrong' } }), (err: { statusCode?: number }) => err.statusCode === 403);
    const caller = await connectTelnyxCaller(url, { headers: { 'x-telnyx-streaming-auth-token': token } });
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, 10_000, 'the answer plays');
    assert.ok(caller.echoesBy('played').length > 0, 'marks were echoed after playing');
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });
});
