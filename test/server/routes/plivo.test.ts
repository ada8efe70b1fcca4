/**
 * The Plivo routes through the real gateway: the answer webhook's XML, X-Plivo-Signature-V3 on the
 * webhook (POST and GET) and on the stream upgrade (403 before any 101), and a signed call that
 * streams.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../../e2e/harness.js';
import { computePlivoSignature } from '../../../src/transports/plivo/signature.js';
import { FakePlivoCaller } from '../../fakes/plivo-caller.js';

const TOKEN = 'plivo-test-token';
const PUBLIC = 'https://gw.example';
const running: RunningGateway[] = [];
after(async () => {
  for (const r of running) await r.close();
});

async function gateway(env: Record<string, string> = { PLIVO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC }): Promise<RunningGateway> {
  const r = await startGateway(env);
  running.push(r);
  return r;
}

const FORM = { CallUUID: 'c0ffee00-1234-5678-9abc-def012345678', From: '+15550001', To: '+15550002', Direction: 'inbound' };

function signedHeaders(method: 'GET' | 'POST', url: string, params: Record<string, string>, nonce = '12345678901234567890'): Record<string, string> {
  const map = new Map(Object.entries(params).map(([k, v]) => [k, [v]]));
  return { 'x-plivo-signature-v3': computePlivoSignature(TOKEN, nonce, method, url, map)!, 'x-plivo-signature-v3-nonce': nonce };
}

async function post(r: RunningGateway, headers: Record<string, string>, body = new URLSearchParams(FORM).toString()): Promise<Response> {
  return fetch(`${r.baseUrl}/plivo/answer`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, signal: AbortSignal.timeout(5000) });
}

describe('POST/GET /plivo/answer', () => {
  test('a signed POST gets Plivo XML connecting the call to wss://<public host>/plivo/media', async () => {
    const r = await gateway();
    const res = await post(r, signedHeaders('POST', `${PUBLIC}/plivo/answer`, FORM));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/xml/);
    assert.equal(
      await res.text(),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000" extraHeaders="CallUUID=c0ffee00123456789abcdef012345678,From=15550001,To=15550002,Direction=inbound">wss://gw.example/plivo/media</Stream></Response>',
    );
  });

  test('a missing, wrong or replayed-on-other-fields signature is 403 VW_ERR_BAD_SIGNATURE', async () => {
    const r = await gateway();
    const good = signedHeaders('POST', `${PUBLIC}/plivo/answer`, FORM);
    for (const headers of [{}, { ...good, 'x-plivo-signature-v3': 'AAAA' }, { ...good, 'x-plivo-signature-v3-nonce': 'other' }]) {
      const res = await post(r, headers);
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'VW_ERR_BAD_SIGNATURE');
    }
    const tampered = await post(r, good, new URLSearchParams({ ...FORM, From: '+15559999' }).toString());
    assert.equal(tampered.status, 403);
  });

  test('a signed GET (answer_method GET) is accepted; without PLIVO_AUTH_TOKEN no signature is needed', async () => {
    const r = await gateway();
    const query = `?${new URLSearchParams(FORM).toString()}`;
    const res = await fetch(`${r.baseUrl}/plivo/answer${query}`, { headers: signedHeaders('GET', `${PUBLIC}/plivo/answer${query}`, {}), signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    const open = await gateway({});
    const unsigned = await post(open, {});
    assert.equal(unsigned.status, 200);
    assert.ok((await unsigned.text()).includes(`>wss://${new URL(open.baseUrl).host}/plivo/media<`));
  });
});

describe('WS /plivo/media', () => {
  test('an unsigned upgrade is refused with 403 before any 101 when PLIVO_AUTH_TOKEN is set', async () => {
    const r = await gateway();
    await assert.rejects(FakePlivoCaller.connect(`${r.baseUrl.replace('http', 'ws')}/plivo/media`), (err: Error & { statusCode?: number }) => err.statusCode === 403);
  });

  test('an upgrade signed for the wss:// or https:// form of the stream URL streams', async () => {
    const r = await gateway();
    const model = r.model!;
    for (const [i, url] of [`wss://gw.example/plivo/media`, `https://gw.example/plivo/media`].entries()) {
      const caller = await FakePlivoCaller.connect(`${r.baseUrl.replace('http', 'ws')}/plivo/media`, { headers: signedHeaders('GET', url, {}) });
      // The call reached the model: its session was configured.
      await caller.waitUntil(() => model.log.sessionUpdates.length >= i + 1, 5000, 'the model session');
      assert.equal(caller.isOpen, true);
      await caller.stop();
    }
  });
});
