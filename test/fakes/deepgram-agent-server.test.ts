/** The fake Deepgram Voice Agent server itself, with a raw `ws` client: it must follow the protocol. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { FakeDeepgramServer } from './deepgram-agent-server.js';
import { ULAW_8K, tone } from './model-fake-audio.js';
import { rawText } from './model-fake-server.js';
import { Conditions } from '../helpers/conditions.js';

interface Client { ws: WebSocket; types: string[]; binaryFrames: number; until: (check: () => boolean, what: string) => Promise<void>; closed: Promise<number> }

async function client(fake: FakeDeepgramServer, key = 'test-key'): Promise<Client> {
  const ws = new WebSocket(fake.url(), { headers: { Authorization: `Token ${key}` } });
  const conditions = new Conditions('deepgram fake test');
  const c: Client = { ws, types: [], binaryFrames: 0, until: (check, what) => conditions.until(check, 5000, what), closed: new Promise((resolve) => ws.on('close', (code) => resolve(code))) };
  ws.on('message', (data, isBinary) => {
    if (isBinary) c.binaryFrames++;
    else c.types.push((JSON.parse(rawText(data)) as { type: string }).type);
    conditions.notify();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

const SETTINGS = JSON.stringify({ type: 'Settings', audio: { input: { encoding: 'mulaw', sample_rate: 8000 }, output: { encoding: 'mulaw', sample_rate: 8000, container: 'none' } }, agent: {} });

describe('FakeDeepgramServer', () => {
  const fakes: FakeDeepgramServer[] = [];
  after(async () => {
    for (const f of fakes) await f.close();
  });

  test('Welcome first; anything but Settings first is an Error and a close', async () => {
    const fake = await FakeDeepgramServer.start();
    fakes.push(fake);
    const c = await client(fake);
    await c.until(() => c.types.includes('Welcome'), 'Welcome');
    c.ws.send(JSON.stringify({ type: 'KeepAlive' }));
    assert.equal(await c.closed, 1008);
    assert.deepEqual(c.types, ['Welcome', 'Error']);
  });

  test('speech then silence: the documented answer sequence; speech during it: UserStartedSpeaking and late frames', async () => {
    const fake = await FakeDeepgramServer.start({ answerMs: 2000, speedFactor: 2, lateChunksAfterInterrupt: 2 });
    fakes.push(fake);
    const c = await client(fake);
    c.ws.send(SETTINGS);
    await c.until(() => c.types.includes('SettingsApplied'), 'SettingsApplied');
    c.ws.send(tone(ULAW_8K, 0, 300));
    c.ws.send(new Uint8Array(8 * 600).fill(0xff));
    await c.until(() => c.binaryFrames >= 2, 'answer audio');
    assert.deepEqual(c.types.slice(2), ['UserStartedSpeaking', 'ConversationText', 'AgentThinking', 'ConversationText', 'AgentStartedSpeaking']);
    const before = c.binaryFrames;
    c.ws.send(tone(ULAW_8K, 0, 200));
    await c.until(() => c.types.filter((t) => t === 'UserStartedSpeaking').length === 2, 'barge-in');
    await c.until(() => c.binaryFrames >= before + 2, 'late frames');
    assert.equal(fake.recordsOf('interrupted').length, 1);
    assert.ok(!c.types.includes('AgentAudioDone'));
    c.ws.close();
  });

  test('UpdatePrompt is acknowledged with PromptUpdated; InjectAgentMessage while idle is spoken', async () => {
    const fake = await FakeDeepgramServer.start({ speedFactor: 50 });
    fakes.push(fake);
    const c = await client(fake);
    c.ws.send(SETTINGS);
    c.ws.send(JSON.stringify({ type: 'UpdatePrompt', prompt: 'note' }));
    c.ws.send(JSON.stringify({ type: 'InjectAgentMessage', message: 'Are you there?' }));
    await c.until(() => c.types.includes('AgentAudioDone'), 'injected message spoken');
    assert.deepEqual(fake.recordsOf('update-prompt').map((r) => r.text), ['note']);
    assert.ok(c.types.includes('PromptUpdated'));
    c.ws.close();
  });

  test('refuses a wrong key with HTTP 401', async () => {
    const fake = await FakeDeepgramServer.start();
    fakes.push(fake);
    await assert.rejects(client(fake, 'wrong'), /401/);
  });
});
