/**
 * The Vonage routes through the real gateway: the answer NCCO for GET and POST webhooks, the signed
 * JWT check (403), the media grant on the upgrade (403 before any 101), and a granted call that
 * streams.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../../e2e/harness.js';
import { payloadHash, queryPayload, signHs256 } from '../../../src/transports/vonage/signed-webhook.js';
import { FakeVonageCaller } from '../../fakes/vonage-caller.js';

const SECRET = 'vonage-test-secret';
const running: RunningGateway[] = [];
after(async () => {
  for (const r of running) await r.close();
});

async function gateway(env: Record<string, string> = { VONAGE_SIGNATURE_SECRET: SECRET, PUBLIC_URL: 'https://gw.example' }): Promise<RunningGateway> {
  const r = await startGateway(env);
  running.push(r);
  return r;
}

const QUERY = 'to=442079460000&from=447700900000&uuid=63f61863-4a51-4f6b-86e1-46edebcf9356&conversation_uuid=CON-1';
const bearer = (payload: string, secret = SECRET): string => `Bearer ${signHs256({ iat: Math.floor(Date.now() / 1000), iss: 'Vonage', payload_hash: payloadHash(payload) }, secret)}`;

interface Endpoint { type: string; uri: string; 'content-type': string; headers: Record<string, string> }

async function ncco(res: Response): Promise<Endpoint> {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as Array<{ action: string; endpoint: Endpoint[] }>;
  assert.equal(body.length, 1);
  assert.equal(body[0]?.action, 'connect');
  return body[0].endpoint[0]!;
}

describe('GET/POST /vonage/answer', () => {
  test('a signed GET answers a websocket connect to wss://<public host>/vonage/media with a grant, L16 16 kHz and the call headers', async () => {
    const r = await gateway();
    const res = await fetch(`${r.baseUrl}/vonage/answer?${QUERY}`, { headers: { authorization: bearer(queryPayload(new URLSearchParams(QUERY))) }, signal: AbortSignal.timeout(5000) });
    const endpoint = await ncco(res);
    assert.equal(endpoint.type, 'websocket');
    assert.equal(endpoint['content-type'], 'audio/l16;rate=16000');
    assert.deepEqual(endpoint.headers, { uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356', conversation_uuid: 'CON-1', from: '447700900000', to: '442079460000' });
    const uri = new URL(endpoint.uri);
    assert.equal(`${uri.protocol}//${uri.host}${uri.pathname}`, 'wss://gw.example/vonage/media');
    assert.deepEqual([...uri.searchParams.keys()], ['call', 'exp', 'sig']);
  });

  test('a signed POST with a JSON body works; VONAGE_AUDIO_RATE=8000 asks for 8 kHz', async () => {
    const r = await gateway({ VONAGE_SIGNATURE_SECRET: SECRET, VONAGE_AUDIO_RATE: '8000' });
    const body = JSON.stringify({ uuid: 'u-2', from: '1', to: '2' });
    const res = await fetch(`${r.baseUrl}/vonage/answer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(body) }, body, signal: AbortSignal.timeout(5000) });
    const endpoint = await ncco(res);
    assert.equal(endpoint['content-type'], 'audio/l16;rate=8000');
    assert.deepEqual(endpoint.headers, { uuid: 'u-2', from: '1', to: '2' });
  });

  test('no token, another secret or a tampered query is 403 VW_ERR_BAD_SIGNATURE', async () => {
    const r = await gateway();
    const good = bearer(queryPayload(new URLSearchParams(QUERY)));
    for (const [query, authorization] of [[QUERY, undefined], [QUERY, bearer(queryPayload(new URLSearchParams(QUERY)), 'other')], [QUERY.replace('447700900000', '447700900001'), good]] as const) {
      const res = await fetch(`${r.baseUrl}/vonage/answer?${query}`, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'VW_ERR_BAD_SIGNATURE');
    }
  });

  test('without VONAGE_SIGNATURE_SECRET no token is needed and the URL has no grant', async () => {
    const r = await gateway({});
    const endpoint = await ncco(await fetch(`${r.baseUrl}/vonage/answer?${QUERY}`, { signal: AbortSignal.timeout(5000) }));
    assert.equal(endpoint.uri, `wss://${new URL(r.baseUrl).host}/vonage/media`);
  });
});

describe('WS /vonage/media', () => {
  test('an upgrade without a valid grant is refused with 403; the answer\'s grant opens a call', async () => {
    const r = await gateway();
    const ws = r.baseUrl.replace('http', 'ws');
    await assert.rejects(FakeVonageCaller.connect(`${ws}/vonage/media`), (err: Error & { statusCode?: number }) => err.statusCode === 403);
    await assert.rejects(FakeVonageCaller.connect(`${ws}/vonage/media?call=x&exp=9999999999&sig=AAAA`), (err: Error & { statusCode?: number }) => err.statusCode === 403);
    const res = await fetch(`${r.baseUrl}/vonage/answer?${QUERY}`, { headers: { authorization: bearer(queryPayload(new URLSearchParams(QUERY))) }, signal: AbortSignal.timeout(5000) });
    const uri = new URL((await ncco(res)).uri);
    const caller = await FakeVonageCaller.connect(`${ws}/vonage/media${uri.search}`);
    await caller.waitUntil(() => r.model!.log.sessionUpdates.length >= 1, 5000, 'the model session');
    assert.equal(caller.isOpen, true);
    await caller.stop();
  });
});
