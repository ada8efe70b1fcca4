/** The fake Gemini Live server itself, with a raw `ws` client: it must follow the protocol. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { FakeGeminiServer } from './gemini-live-server.js';
import { PCM_16K, tone } from './model-fake-audio.js';
import { rawText } from './model-fake-server.js';
import { Conditions } from '../helpers/conditions.js';

async function client(fake: FakeGeminiServer, key = 'test-key'): Promise<{ ws: WebSocket; messages: Array<Record<string, unknown>>; until: (check: () => boolean, what: string) => Promise<void>; closed: Promise<number> }> {
  const ws = new WebSocket(`${fake.url()}?key=${key}`);
  const messages: Array<Record<string, unknown>> = [];
  const conditions = new Conditions('gemini fake test');
  ws.on('message', (data, isBinary) => {
    assert.equal(isBinary, true, 'Gemini sends JSON in binary frames');
    messages.push(JSON.parse(rawText(data)) as Record<string, unknown>);
    conditions.notify();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, until: (check, what) => conditions.until(check, 5000, what), closed };
}

function audio(ms: number, voiced: boolean): string {
  const bytes = voiced ? tone(PCM_16K, 0, ms) : new Uint8Array(ms * 32);
  return JSON.stringify({ realtimeInput: { audio: { data: Buffer.from(bytes).toString('base64'), mimeType: 'audio/pcm;rate=16000' } } });
}

describe('FakeGeminiServer', () => {
  const fakes: FakeGeminiServer[] = [];
  after(async () => {
    for (const f of fakes) await f.close();
  });

  test('closes with 1007 when the first message is not setup', async () => {
    const fake = await FakeGeminiServer.start();
    fakes.push(fake);
    const { ws, closed } = await client(fake);
    ws.send(audio(20, false));
    assert.equal(await closed, 1007);
  });

  test('answers speech after silence, and interrupts the answer when the caller speaks again', async () => {
    const fake = await FakeGeminiServer.start({ answerMs: 2000, speedFactor: 2 });
    fakes.push(fake);
    const { ws, messages, until } = await client(fake);
    ws.send(JSON.stringify({ setup: { model: 'models/x' } }));
    await until(() => messages.some((m) => 'setupComplete' in m), 'setupComplete');
    ws.send(audio(300, true));
    ws.send(audio(600, false));
    const audioParts = (): number => messages.filter((m) => JSON.stringify(m).includes('audio/pcm;rate=24000')).length;
    await until(() => audioParts() >= 2, 'answer audio');
    ws.send(audio(200, true));
    await until(() => messages.some((m) => (m.serverContent as { interrupted?: boolean } | undefined)?.interrupted === true), 'interrupted');
    const parts = audioParts();
    assert.ok(parts < 20, 'generation stopped early');
    assert.equal(fake.eventsOf('interrupted').length, 1);
    assert.ok(!messages.some((m) => (m.serverContent as { turnComplete?: boolean } | undefined)?.turnComplete === true));
    ws.close();
  });

  test('goAway announces the end, then the server closes; a resumption handle it issued is accepted', async () => {
    const fake = await FakeGeminiServer.start();
    fakes.push(fake);
    const first = await client(fake);
    first.ws.send(JSON.stringify({ setup: { model: 'models/x', sessionResumption: {} } }));
    await first.until(() => messages(first).some((m) => 'sessionResumptionUpdate' in m), 'handle');
    const handle = (messages(first).find((m) => 'sessionResumptionUpdate' in m)!.sessionResumptionUpdate as { newHandle: string }).newHandle;
    fake.goAway(50);
    await first.until(() => messages(first).some((m) => 'goAway' in m), 'goAway');
    assert.equal(await first.closed, 1000);
    const second = await client(fake);
    second.ws.send(JSON.stringify({ setup: { model: 'models/x', sessionResumption: { handle } } }));
    await second.until(() => messages(second).some((m) => 'setupComplete' in m), 'resumed');
    const third = await client(fake);
    third.ws.send(JSON.stringify({ setup: { model: 'models/x', sessionResumption: { handle: 'made-up' } } }));
    assert.equal(await third.closed, 1008);
    second.ws.close();
  });

  test('refuses a wrong key with HTTP 401', async () => {
    const fake = await FakeGeminiServer.start();
    fakes.push(fake);
    await assert.rejects(client(fake, 'wrong'), /401/);
  });
});

function messages(c: { messages: Array<Record<string, unknown>> }): Array<Record<string, unknown>> {
  return c.messages;
}
