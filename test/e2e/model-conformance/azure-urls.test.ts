/**
 * Azure OpenAI Realtime and Azure Voice Live run on the existing `openai-realtime` backend: this
 * proves both URL forms and the `api-key` header end to end against the Realtime fake (configured
 * to accept only `api-key`), with no Realtime code change. Forms (protocols.md §4, §8):
 *
 *   wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment>
 *   wss://<resource>.services.ai.azure.com/voice-live/realtime?api-version=<version>&model=<model>
 *
 * The fake runs on 127.0.0.1, so OPENAI_AUTH_HEADER=api-key is set explicitly (the automatic choice
 * only recognises `*.openai.azure.com` hosts; see the README).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type RunningGateway } from '../harness.js';
import { toneSamples } from '../../fakes/twilio-caller.js';
import { FakeRealtimeServer } from '../../fakes/realtime-server.js';

describe('Azure URL forms on the openai-realtime backend', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const forms = [
    { name: 'Azure OpenAI GA', path: '/openai/v1/realtime?model=my-realtime-deployment' },
    { name: 'Azure Voice Live', path: '/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime' },
  ];

  for (const form of forms) {
    test(`${form.name}: ${form.path.split('?')[0]} with the api-key header answers a call`, async () => {
      const fake = await FakeRealtimeServer.start({ auth: 'api-key', apiKey: 'azure-key', answerMs: 1_000, speedFactor: 10 });
      cleanups.push(() => fake.close());
      const url = `ws://127.0.0.1:${fake.port}${form.path}`;
      const gateway: RunningGateway = await startGateway(
        { MODEL_BACKEND: 'openai-realtime', OPENAI_API_KEY: 'azure-key', OPENAI_REALTIME_URL: url, OPENAI_AUTH_HEADER: 'api-key' },
        false,
      );
      cleanups.push(() => gateway.close());
      const caller = await gateway.call();
      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 990, 10_000, 'the answer played');
      const connection = fake.log.connections[0]!;
      console.log(`# azure ${form.name}: upgrade ${connection.url}, api-key header ${connection.headers['api-key'] === 'azure-key'}, played ${caller.playedMs.toFixed(0)} ms`);
      assert.equal(connection.url, form.path);
      assert.equal(connection.headers['api-key'], 'azure-key');
      assert.equal(connection.headers.authorization, undefined, 'no bearer token next to the api-key');
      assert.equal(connection.headers['openai-beta'], undefined);
      await caller.stop();
    });
  }

  // A model that cannot be reached at call start is 4012 VW_ERR_MODEL_CONNECT (docs/operations.md);
  // 4010 VW_ERR_MODEL_UNAVAILABLE is kept for a model lost mid-call.
  test('the same URL with a bearer token is refused (401) and the call ends with a coded close', async () => {
    const fake = await FakeRealtimeServer.start({ auth: 'api-key', apiKey: 'azure-key' });
    cleanups.push(() => fake.close());
    const gateway = await startGateway(
      { MODEL_BACKEND: 'openai-realtime', OPENAI_API_KEY: 'azure-key', OPENAI_REALTIME_URL: `ws://127.0.0.1:${fake.port}${forms[0]!.path}`, OPENAI_AUTH_HEADER: 'bearer' },
      false,
    );
    cleanups.push(() => gateway.close());
    const caller = await gateway.call();
    const closed = await caller.waitForClose(15_000);
    assert.deepEqual(closed, { code: 4012, reason: 'VW_ERR_MODEL_CONNECT' });
    assert.equal(fake.log.connections.length, 0, 'the upgrade was refused before any session');
  });
});
