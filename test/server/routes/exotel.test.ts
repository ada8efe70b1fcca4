import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../../e2e/harness.js';
import { connectExotelCaller } from '../../fakes/exotel-caller.js';
import { toneSamples } from '../../fakes/twilio-caller.js';

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

void describe('Exotel routes: dynamic URL, basic-auth media upgrade', () => {
  const credentials = 'exotel-api-key:exotel-api-token';
  let r: RunningGateway;
  after(async () => r?.close());

  void test('GET /exotel/url answers the media URL as text/plain (JSON on request); HEAD answers the same headers', async () => {
    r = await startGateway({ EXOTEL_BASIC_AUTH: credentials, PUBLIC_URL: 'https://gw.example.com' }, { answerMs: 2_000, speedFactor: 5 });
    const text = await fetch(`${r.baseUrl}/exotel/url?CallSid=abc&From=%2B919876543210`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('content-type'), 'text/plain');
    assert.equal(await text.text(), 'wss://gw.example.com/exotel/media');
    const json = await fetch(`${r.baseUrl}/exotel/url`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
    assert.deepEqual(await json.json(), { url: 'wss://gw.example.com/exotel/media' });
    const head = await fetch(`${r.baseUrl}/exotel/url`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/plain');
    assert.equal(head.headers.get('content-length'), String('wss://gw.example.com/exotel/media'.length));
  });

  void test('the media upgrade needs the configured Basic credentials, and then carries a PCM16 call', async () => {
    const url = `${r.baseUrl.replace(/^http/, 'ws')}/exotel/media`;
    await assert.rejects(connectExotelCaller(url), (err: { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(connectExotelCaller(url, { headers: { authorization: basic('exotel-api-key:wrong') } }), (err: { statusCode?: number }) => err.statusCode === 403);
    const caller = await connectExotelCaller(url, { headers: { authorization: basic(credentials) } });
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, 10_000, 'the answer plays');
    assert.ok(caller.echoesBy('played').length > 0);
    // 8 kHz PCM16 rides the model's μ-law wire (OPENAI_AUDIO_FORMAT=pcmu): G.711 transcoding, no resampling.
    const session = r.model!.log.sessionUpdates.at(-1) as { audio?: { input?: { format?: unknown }; output?: { format?: unknown } } } | undefined;
    assert.deepEqual(session?.audio?.input?.format, { type: 'audio/pcmu' });
    assert.deepEqual(session?.audio?.output?.format, { type: 'audio/pcmu' });
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });
});
