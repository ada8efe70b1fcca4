/** The fake ElevenLabs Agents server itself, with a raw `ws` client: it must follow the protocol. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { FakeElevenServer } from './elevenlabs-agent-server.js';
import { ULAW_8K, tone } from './model-fake-audio.js';
import { rawText } from './model-fake-server.js';
import { Conditions } from '../helpers/conditions.js';

interface Client { ws: WebSocket; messages: Array<{ type: string } & Record<string, unknown>>; until: (check: () => boolean, what: string) => Promise<void>; closed: Promise<number> }

async function client(fake: FakeElevenServer, key = 'test-key', agent = 'agent_fake'): Promise<Client> {
  const ws = new WebSocket(`${fake.url()}?agent_id=${agent}`, { headers: { 'xi-api-key': key } });
  const conditions = new Conditions('elevenlabs fake test');
  const c: Client = { ws, messages: [], until: (check, what) => conditions.until(check, 5000, what), closed: new Promise((resolve) => ws.on('close', (code) => resolve(code))) };
  ws.on('message', (data) => {
    c.messages.push(JSON.parse(rawText(data)) as { type: string });
    conditions.notify();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

const chunk = (bytes: Uint8Array): string => JSON.stringify({ user_audio_chunk: Buffer.from(bytes).toString('base64') });
const INIT = JSON.stringify({ type: 'conversation_initiation_client_data', conversation_config_override: {} });

describe('FakeElevenServer', () => {
  const fakes: FakeElevenServer[] = [];
  after(async () => {
    for (const f of fakes) await f.close();
  });

  test('the first message must be the initiation; it is answered with the agent formats', async () => {
    const fake = await FakeElevenServer.start();
    fakes.push(fake);
    const bad = await client(fake);
    bad.ws.send(chunk(new Uint8Array(160).fill(0xff)));
    assert.equal(await bad.closed, 1008);
    const good = await client(fake);
    good.ws.send(INIT);
    await good.until(() => good.messages.length >= 1, 'metadata');
    assert.deepEqual(good.messages[0], {
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: { conversation_id: 'conv_fake2', agent_output_audio_format: 'ulaw_8000', user_input_audio_format: 'ulaw_8000' },
    });
    good.ws.close();
  });

  test('speech then silence: transcript, response and audio with rising event ids; speech during it: interruption and late audio', async () => {
    const fake = await FakeElevenServer.start({ answerMs: 2000, speedFactor: 2, lateChunksAfterInterrupt: 2, pingEveryMs: 0 });
    fakes.push(fake);
    const c = await client(fake);
    c.ws.send(INIT);
    c.ws.send(chunk(tone(ULAW_8K, 0, 300)));
    c.ws.send(chunk(new Uint8Array(8 * 600).fill(0xff)));
    const audioIds = (): number[] => c.messages.filter((m) => m.type === 'audio').map((m) => (m.audio_event as { event_id: number }).event_id);
    await c.until(() => audioIds().length >= 3, 'answer audio');
    assert.deepEqual(c.messages.slice(1, 3).map((m) => m.type), ['user_transcript', 'agent_response']);
    assert.deepEqual(audioIds().slice(0, 3), [1, 2, 3]);
    c.ws.send(chunk(tone(ULAW_8K, 0, 200)));
    await c.until(() => c.messages.some((m) => m.type === 'interruption'), 'interruption');
    const interruption = c.messages.find((m) => m.type === 'interruption')!.interruption_event as { event_id: number };
    const afterInterruption = (): Client['messages'] => c.messages.slice(c.messages.findIndex((m) => m.type === 'interruption') + 1);
    await c.until(() => afterInterruption().length >= 3, 'late audio and the correction');
    assert.deepEqual(afterInterruption().map((m) => m.type), ['audio', 'audio', 'agent_response_correction']);
    assert.ok(audioIds().slice(-2).every((id) => id <= interruption.event_id));
    c.ws.close();
  });

  test('pings carry event ids; pongs and contextual updates are recorded', async () => {
    const fake = await FakeElevenServer.start({ pingEveryMs: 10 });
    fakes.push(fake);
    const c = await client(fake);
    c.ws.send(INIT);
    await c.until(() => c.messages.some((m) => m.type === 'ping'), 'ping');
    const ping = c.messages.find((m) => m.type === 'ping')!.ping_event as { event_id: number };
    c.ws.send(JSON.stringify({ type: 'pong', event_id: ping.event_id }));
    c.ws.send(JSON.stringify({ type: 'contextual_update', text: 'note' }));
    await fake.until(() => fake.recordsOf('contextual-update').length === 1, 'update');
    assert.equal(fake.recordsOf('pong')[0]!.eventId, ping.event_id);
    c.ws.close();
  });

  test('refuses a wrong key or agent with HTTP 401', async () => {
    const fake = await FakeElevenServer.start();
    fakes.push(fake);
    await assert.rejects(client(fake, 'wrong'), /401/);
    await assert.rejects(client(fake, 'test-key', 'other'), /401/);
  });
});
