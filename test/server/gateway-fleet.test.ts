/**
 * The gateway as one replica of a fleet, in process with real sockets (fake Twilio callers, fake
 * Realtime model): drain, the start timeout and the pending cap, slots taken at `start`, per-address
 * limits, MAX_CALL_MS, the admin listener and metrics token, CORS on POST /session.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../e2e/harness.js';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { FakeTwilioCaller, toneSamples } from '../fakes/twilio-caller.js';
import { mintBrowserUrl } from '../e2e/browser/session.js';
import { PROTOCOL_VERSION, encodeControl } from '../../src/transports/browser/codec.js';

const running: RunningGateway[] = [];
async function gateway(env: Record<string, string> = {}): Promise<RunningGateway> {
  const r = await startGateway(env, { answerMs: 4_000, speedFactor: 5, detectionDelayMs: 100 });
  running.push(r);
  return r;
}

async function refusedWith(url: string, options: { headers?: Record<string, string> } = {}): Promise<number | undefined> {
  try {
    const caller = await FakeTwilioCaller.connect(url, { autoStart: false, ...options });
    caller.terminate();
    return undefined;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode;
  }
}

function webhook(r: RunningGateway, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${r.baseUrl}/twilio/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: 'CallSid=CA1&From=%2B15550100' });
}

async function metric(r: RunningGateway, line: string): Promise<number> {
  const text = await (await fetch(`${r.baseUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('gateway as a fleet replica', { concurrency: false }, () => {
  after(async () => {
    for (const r of running) await r.close();
  });

  test('drain: /readyz, webhooks and upgrades answer 503 at once while the live call plays on to its end', async () => {
    const r = await gateway();
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, 10_000, 'the answer to start');
    const draining = r.gateway.drain(60_000);
    const ready = await fetch(`${r.baseUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { status: string }).status, 'draining');
    const hook = await webhook(r);
    assert.equal(hook.status, 503);
    assert.equal(((await hook.json()) as { error: { code: string } }).error.code, 'VW_ERR_DRAINING');
    assert.equal(await refusedWith(r.wsUrl), 503);
    const playedAtDrain = caller.playedMs;
    await caller.waitUntil(() => caller.playedMs >= 3_900, 10_000, 'the answer to play to its end during the drain');
    assert.ok(caller.isOpen);
    assert.ok(caller.playedMs - playedAtDrain > 2_000);
    assert.ok(caller.maxBufferedMs <= 820, `buffered ${caller.maxBufferedMs} ms`);
    await caller.stop();
    const report = await draining;
    assert.equal(report.outcome, 'calls-finished');
    assert.equal(report.endedByUs, 0);
    assert.equal(report.callsAtStart, 1);
    assert.equal(caller.closeInfo?.code, 1000);
  });

  test('drain: a carrier route registered as a call route is refused even as a GET; service routes are served', async () => {
    const r = await startGateway({}, { answerMs: 1_000 }, {
      plugins: [(ctx) => ctx.router.add('GET', '/carrier/answer', (_req, res) => void res.writeHead(200).end('answer'), { kind: 'call' })],
    });
    running.push(r);
    assert.equal((await fetch(`${r.baseUrl}/carrier/answer`)).status, 200);
    const caller = await r.call(); // a live call keeps the drain (and the listener) going
    await caller.waitUntil(() => caller.framesSent > 5, 5_000, 'the call to run');
    const draining = r.gateway.drain(60_000);
    const refused = await fetch(`${r.baseUrl}/carrier/answer`);
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'VW_ERR_DRAINING');
    assert.equal((await fetch(`${r.baseUrl}/healthz`)).status, 200);
    await caller.stop();
    assert.equal((await draining).outcome, 'calls-finished');
  });

  test('drain deadline: the calls left get close 1001 VW_ERR_SHUTDOWN, never a bare reset', async () => {
    const r = await gateway();
    const caller = await r.call();
    await caller.waitUntil(() => caller.framesSent >= 5, 5_000, 'the call to be streaming');
    const report = await r.gateway.drain(200);
    assert.equal(report.outcome, 'deadline');
    assert.equal(report.endedByUs, 1);
    const closed = await caller.waitForClose(5_000);
    assert.deepEqual(closed, { code: 1001, reason: 'VW_ERR_SHUTDOWN' });
    assert.deepEqual(caller.socketErrors.toArray(), []);
    assert.equal(r.gateway.state, 'closed');
  });

  test('a second stop during a drain ends the calls at once', async () => {
    const r = await gateway();
    const caller = await r.call();
    await caller.waitUntil(() => caller.framesSent >= 5, 5_000, 'the call to be streaming');
    const draining = r.gateway.drain(600_000);
    const report = await r.gateway.stopNow();
    assert.equal(report, await draining);
    assert.equal(report.outcome, 'stopped');
    assert.deepEqual(await caller.waitForClose(5_000), { code: 1001, reason: 'VW_ERR_SHUTDOWN' });
  });

  test('a stream that sends no start within START_TIMEOUT_MS is closed with 4020 and counted', async () => {
    const r = await gateway({ START_TIMEOUT_MS: '300' });
    const idle = await FakeTwilioCaller.connect(r.wsUrl, { autoStart: false });
    const openedAt = idle.now();
    const closed = await idle.waitForClose(5_000);
    const afterMs = idle.closeInfo!.at - openedAt;
    assert.equal(closed.code, 4020);
    assert.equal(closed.reason, 'no start within 300 ms');
    assert.ok(afterMs >= 290 && afterMs < 1_500, `closed after ${afterMs} ms`);
    assert.equal(await metric(r, 'voicewire_refused_total{reason="start-timeout"}'), 1);
  });

  test('sockets waiting for start do not take call slots, and have their own cap', async () => {
    const r = await gateway({ MAX_CALLS: '1', MAX_PENDING_STREAMS: '2' });
    const a = await FakeTwilioCaller.connect(r.wsUrl, { autoStart: false });
    const b = await FakeTwilioCaller.connect(r.wsUrl, { autoStart: false });
    assert.equal(await refusedWith(r.wsUrl), 503, 'third waiting socket');
    const ready = (await (await fetch(`${r.baseUrl}/readyz`)).json()) as { status: string; calls: number; pending: number };
    assert.deepEqual([ready.status, ready.calls, ready.pending], ['ready', 0, 2]);
    a.sendStart();
    await a.waitUntil(() => a.received.total > 0 || a.framesSent > 10, 5_000, 'the first call to run');
    assert.equal((await fetch(`${r.baseUrl}/readyz`)).status, 503, 'MAX_CALLS=1 is taken by the started call');
    b.sendStart();
    assert.deepEqual(await b.waitForClose(5_000), { code: 1013, reason: 'VW_ERR_SERVER_FULL' });
    assert.ok(a.isOpen);
    assert.equal(await metric(r, 'voicewire_refused_total{reason="full"}'), 1);
    assert.equal(await metric(r, 'voicewire_refused_total{reason="pending-full"}'), 1);
  });

  test('browsers too take their slot at hello, not at the upgrade', async () => {
    const r = await gateway({ MAX_CALLS: '1' });
    const waiting = new WebSocket(await mintBrowserUrl(r.baseUrl), { perMessageDeflate: false });
    await once(waiting, 'open');
    const closed = once(waiting, 'close') as Promise<[number, Buffer]>;
    const caller = await r.call(); // takes the only slot while the browser has not said hello
    await caller.waitUntil(() => caller.framesSent > 5, 5_000, 'the Twilio call to run');
    waiting.send(encodeControl({ type: 'hello', version: PROTOCOL_VERSION, playbackRate: 24000, micRate: 16000 }));
    const [code, reason] = await closed;
    assert.deepEqual([code, reason.toString()], [1013, 'VW_ERR_SERVER_FULL']);
    assert.ok(caller.isOpen);
  });

  test('per-address token buckets: upgrades and webhooks past the burst get 429; X-Forwarded-For counts only from trusted proxies', async () => {
    const r = await gateway({ UPGRADE_RATE_PER_SEC: '1', UPGRADE_RATE_BURST: '2', WEBHOOK_RATE_PER_SEC: '1', WEBHOOK_RATE_BURST: '2', TRUSTED_PROXIES: '127.0.0.1/32' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await webhook(r, { 'x-forwarded-for': '198.51.100.1' })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal((await webhook(r, { 'x-forwarded-for': '198.51.100.2' })).status, 200, 'another client behind the proxy');
    assert.equal(await refusedWith(r.wsUrl, { headers: { 'x-forwarded-for': '198.51.100.3' } }), undefined);
    assert.equal(await refusedWith(r.wsUrl, { headers: { 'x-forwarded-for': '198.51.100.3' } }), undefined);
    assert.equal(await refusedWith(r.wsUrl, { headers: { 'x-forwarded-for': '198.51.100.3' } }), 429);
    assert.equal(await metric(r, 'voicewire_refused_total{reason="rate-limited-webhook"}'), 1);
    assert.equal(await metric(r, 'voicewire_refused_total{reason="rate-limited-upgrade"}'), 1);

    const untrusting = await gateway({ WEBHOOK_RATE_PER_SEC: '1', WEBHOOK_RATE_BURST: '1' });
    assert.equal((await webhook(untrusting, { 'x-forwarded-for': '198.51.100.1' })).status, 200);
    assert.equal((await webhook(untrusting, { 'x-forwarded-for': '198.51.100.2' })).status, 429, 'a forged header does not buy a new bucket');
  });

  test('MAX_CALL_MS ends a call with 4021', async () => {
    const r = await gateway({ MAX_CALL_MS: '1000' });
    const caller = await r.call();
    const startedAt = caller.now();
    assert.deepEqual(await caller.waitForClose(5_000), { code: 4021, reason: 'VW_ERR_CALL_TOO_LONG' });
    const lasted = caller.closeInfo!.at - startedAt;
    assert.ok(lasted >= 990 && lasted < 2_000, `lasted ${lasted} ms`);
  });

  test('METRICS_TOKEN guards /metrics; ADMIN_PORT moves it off the call listener', async () => {
    const r = await gateway({ METRICS_TOKEN: 's3cret', ADMIN_PORT: '0' });
    const admin = `http://127.0.0.1:${r.gateway.adminPort}`;
    assert.equal((await fetch(`${r.baseUrl}/metrics`, { headers: { authorization: 'Bearer s3cret' } })).status, 404);
    const refused = await fetch(`${admin}/metrics`);
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'VW_ERR_METRICS_AUTH');
    assert.equal((await fetch(`${admin}/metrics`, { headers: { authorization: 'Bearer wrong!' } })).status, 401);
    const ok = await fetch(`${admin}/metrics`, { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /^voicewire_draining 0$/m);
    assert.equal((await fetch(`${admin}/readyz`)).status, 200);
    assert.equal((await fetch(`${r.baseUrl}/readyz`)).status, 200);
  });

  test('CORS on POST /session for ALLOWED_ORIGINS, with an absolute wsUrl from PUBLIC_URL', async () => {
    const r = await gateway({ ALLOWED_ORIGINS: 'https://app.example', PUBLIC_URL: 'https://voice.example' });
    const preflight = await fetch(`${r.baseUrl}/session`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST');
    assert.equal(preflight.headers.get('vary'), 'Origin');
    const other = await fetch(`${r.baseUrl}/session`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const session = await fetch(`${r.baseUrl}/session`, { method: 'POST', headers: { origin: 'https://app.example' } });
    assert.equal(session.status, 200);
    assert.equal(session.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(((await session.json()) as { wsUrl: string }).wsUrl, 'wss://voice.example/browser');
  });
});
