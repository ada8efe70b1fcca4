/**
 * The real entry point (src/server/main.ts under tsx, as a child process) and its signals: SIGTERM
 * drains, DRAIN_TIMEOUT_MS ends what is left with 1001, a second signal ends everything at once,
 * the process exits when the last call is gone; coded start-up warnings and refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { FakeRealtimeServer } from '../fakes/realtime-server.js';
import { FakeTwilioCaller, toneSamples } from '../fakes/twilio-caller.js';
import { GatewayProcess } from '../helpers/gateway-process.js';

describe('main.ts signals', { concurrency: false }, () => {
  let model: FakeRealtimeServer;
  const processes: GatewayProcess[] = [];
  function start(env: Record<string, string> = {}): GatewayProcess {
    const p = GatewayProcess.start({ OPENAI_API_KEY: 'test-key', OPENAI_REALTIME_URL: model.url(), ...env });
    processes.push(p);
    return p;
  }

  before(async () => {
    model = await FakeRealtimeServer.start({ answerMs: 3_000, speedFactor: 5, detectionDelayMs: 100 });
  });
  after(async () => {
    for (const p of processes) p.kill();
    await model.close();
  });

  test('SIGTERM: /readyz 503 at once, the live call plays on, the process exits 0 when it ends', async () => {
    const gw = start();
    const host = await gw.listening();
    const caller = await FakeTwilioCaller.connect(`ws://${host}/twilio/media`);
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 300, 10_000, 'the answer to start');
    gw.child.kill('SIGTERM');
    await gw.until(() => gw.logs.some((l) => l.signal === 'SIGTERM'), 5_000, 'the signal to be handled');
    assert.equal((await fetch(`http://${host}/readyz`)).status, 503);
    const playedAtSignal = caller.playedMs;
    await caller.waitUntil(() => caller.playedMs >= 2_900, 10_000, 'the answer to play to its end');
    assert.ok(caller.playedMs - playedAtSignal > 1_500);
    assert.equal(gw.exit, undefined, 'the process waits for the call');
    const hangUpAt = performance.now();
    await caller.stop();
    await gw.until(() => gw.exit !== undefined, 10_000, 'exit');
    console.log(`# SIGTERM drain: process exited ${(gw.exit!.at - hangUpAt).toFixed(0)} ms after the last call hung up`);
    assert.deepEqual([gw.exit!.code, gw.exit!.signal], [0, null]);
    assert.equal(caller.closeInfo?.code, 1000);
  });

  test('DRAIN_TIMEOUT_MS passes: the call ends with 1001 VW_ERR_SHUTDOWN and a logged reason; the process exits 0', async () => {
    const gw = start({ DRAIN_TIMEOUT_MS: '400' });
    const host = await gw.listening();
    const caller = await FakeTwilioCaller.connect(`ws://${host}/twilio/media`);
    await caller.waitUntil(() => caller.framesSent >= 10, 5_000, 'streaming');
    const signalAt = caller.now();
    gw.child.kill('SIGTERM');
    assert.deepEqual(await caller.waitForClose(5_000), { code: 1001, reason: 'VW_ERR_SHUTDOWN' });
    const closedAfter = caller.closeInfo!.at - signalAt;
    assert.ok(closedAfter >= 390 && closedAfter < 3_000, `closed ${closedAfter} ms after SIGTERM`);
    await gw.until(() => gw.exit !== undefined, 10_000, 'exit');
    assert.equal(gw.exit!.code, 0);
    const reason = gw.logs.find((l) => l.code === 'VW_ERR_SHUTDOWN' && l.reason !== undefined);
    assert.equal(reason?.reason, 'DRAIN_TIMEOUT_MS of 400 ms passed');
    assert.deepEqual(caller.socketErrors.toArray(), []);
  });

  test('a second signal ends every call at once, still with close frames', async () => {
    const gw = start({ DRAIN_TIMEOUT_MS: '600000' });
    const host = await gw.listening();
    const callers = await Promise.all([0, 1, 2].map(() => FakeTwilioCaller.connect(`ws://${host}/twilio/media`)));
    await Promise.all(callers.map((c) => c.waitUntil(() => c.framesSent >= 10, 5_000, 'streaming')));
    gw.child.kill('SIGTERM');
    await gw.until(() => gw.logs.some((l) => l.signal === 'SIGTERM'), 5_000, 'the first signal to be handled');
    const secondAt = performance.now();
    gw.child.kill('SIGINT');
    for (const c of callers) assert.deepEqual(await c.waitForClose(5_000), { code: 1001, reason: 'VW_ERR_SHUTDOWN' });
    await gw.until(() => gw.exit !== undefined, 10_000, 'exit');
    console.log(`# second signal: process exited ${(gw.exit!.at - secondAt).toFixed(0)} ms after it`);
    assert.equal(gw.exit!.code, 0);
    assert.ok(gw.exit!.at - secondAt < 3_000);
    assert.equal(gw.logs.find((l) => l.code === 'VW_ERR_SHUTDOWN' && l.reason !== undefined)?.reason, 'stopped by a second signal');
  });

  test('start-up: no TWILIO_AUTH_TOKEN or SESSION_SECRET is a coded warning; REQUIRE_SIGNATURES=true refuses to start', async () => {
    const gw = start();
    await gw.listening();
    // pino's lines may trail the banner on stdout: wait for its own 'listening' line (it has `port`).
    await gw.until(() => gw.logs.some((l) => l.port !== undefined), 5_000, 'the listening log line');
    assert.deepEqual(gw.logs.filter((l) => l.level === 40 && l.code !== undefined).map((l) => l.code), ['VW_ERR_NO_AUTH_TOKEN', 'VW_ERR_NO_SESSION_SECRET']);
    gw.child.kill('SIGTERM');
    await gw.until(() => gw.exit !== undefined, 10_000, 'exit');

    const quiet = start({ TWILIO_AUTH_TOKEN: 'tok', SESSION_SECRET: 'a-shared-secret-of-32-characters!', REQUIRE_SIGNATURES: 'true' });
    await quiet.listening();
    await quiet.until(() => quiet.logs.some((l) => l.port !== undefined), 5_000, 'the listening log line');
    assert.deepEqual(quiet.logs.filter((l) => l.code !== undefined), []);
    quiet.child.kill('SIGTERM');

    const refused = start({ REQUIRE_SIGNATURES: 'true' });
    const [code] = (await once(refused.child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.ok(refused.stderr.some((l) => l.includes('REQUIRE_SIGNATURES=true needs TWILIO_AUTH_TOKEN')));
  });
});
