/**
 * DeepgramAgentSession against the fake Voice Agent server over real sockets: Welcome → Settings →
 * SettingsApplied, μ-law passing through untouched both ways, UserStartedSpeaking as barge-in
 * with the old answer's late audio dropped, the heard note as UpdatePrompt, KeepAlive.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import type { ModelAudio, ModelEvents } from '../../../src/models/model.js';
import { DeepgramAgentSession } from '../../../src/models/deepgram-agent/session.js';
import { FakeDeepgramServer, type FakeDeepgramOptions } from '../../fakes/deepgram-agent-server.js';
import { ULAW_8K, tone } from '../../fakes/model-fake-audio.js';
import { Conditions } from '../../helpers/conditions.js';

interface Opened {
  fake: FakeDeepgramServer;
  session: DeepgramAgentSession;
  log: string[];
  audio: ModelAudio[];
  seen: (line: string) => Promise<void>;
  until: (check: () => boolean, what: string) => Promise<void>;
}

describe('DeepgramAgentSession', () => {
  const fakes: FakeDeepgramServer[] = [];
  const sessions: DeepgramAgentSession[] = [];
  after(async () => {
    for (const s of sessions) s.close();
    for (const f of fakes) await f.close();
  });

  async function open(options: FakeDeepgramOptions = {}, keepAliveMs = 5000): Promise<Opened> {
    const fake = await FakeDeepgramServer.start({ answerMs: 1000, speedFactor: 20, ...options });
    fakes.push(fake);
    const session = new DeepgramAgentSession({ callerFormat: TWILIO_FORMAT, apiKey: 'test-key', url: fake.url(), instructions: 'Be brief.', keepAliveMs });
    sessions.push(session);
    const log: string[] = [];
    const audio: ModelAudio[] = [];
    const conditions = new Conditions('deepgram session test');
    const push = (line: string): void => {
      log.push(line);
      conditions.notify();
    };
    const events: ModelEvents = {
      speechStarted: () => push('speechStarted'),
      speechStopped: () => undefined,
      responseStarted: (id) => push(`started ${id}`),
      audio: (chunk) => {
        audio.push(chunk);
        conditions.notify();
        return Promise.resolve();
      },
      sentenceEnd: () => undefined,
      responseDone: (id, status) => push(`done ${id} ${status}`),
      transcript: (id, text) => push(`text ${id} ${text}`),
      error: (e) => push(`error ${e.code}`),
      closed: (_r, e) => push(`closed ${e?.code}`),
    };
    session.attach(events);
    await session.connect();
    return {
      fake, session, log, audio,
      seen: (line) => conditions.until(() => log.includes(line), 5000, line),
      until: (check, what) => conditions.until(check, 5000, what),
    };
  }

  test('sends Settings after Welcome and passes μ-law through byte for byte', async () => {
    const { fake, session, audio, seen, log } = await open();
    const settings = JSON.parse(fake.settings.at(0)!.text!) as { audio: { input: unknown; output: unknown } };
    assert.deepEqual(settings.audio.input, { encoding: 'mulaw', sample_rate: 8000 });
    assert.deepEqual(settings.audio.output, { encoding: 'mulaw', sample_rate: 8000, container: 'none' });
    session.appendAudio(tone(ULAW_8K, 0, 300), 300);
    session.appendAudio(new Uint8Array(8 * 600).fill(0xff), 600);
    await seen('done deepgram_resp_1 completed');
    const received = Buffer.concat(audio.map((a) => a.bytes));
    assert.deepEqual(received, Buffer.from(tone(ULAW_8K, 0, 1000)));
    assert.ok(log.includes(`text deepgram_resp_1 ${fake.options.transcript}`));
  });

  test('UserStartedSpeaking is a barge-in; the old answer\'s late frames are dropped; what was heard goes out as UpdatePrompt', async () => {
    const { fake, session, audio, seen, until } = await open({ answerMs: 4000, speedFactor: 2, lateChunksAfterInterrupt: 3 });
    fake.respond();
    await until(() => audio.reduce((sum, a) => sum + a.durationMs, 0) >= 1000, '1 s of answer');
    session.appendAudio(tone(ULAW_8K, 0, 200), 200);
    await seen('speechStarted');
    await seen('done deepgram_resp_1 cancelled');
    const deliveredMs = audio.reduce((sum, a) => sum + a.durationMs, 0);
    session.interrupt({ itemId: 'deepgram_item_1', audioEndMs: deliveredMs / 2 });
    await fake.until(() => fake.recordsOf('update-prompt').length === 1, 'UpdatePrompt');
    assert.match(fake.recordsOf('update-prompt')[0]!.text!, /^The caller interrupted your last answer and heard only this part of it: "Hello, this is the fake/);
    assert.equal(fake.recordsOf('interrupted').length, 1);
    // The three late frames follow UserStartedSpeaking on the socket; a frame sent after them
    // (malformed on purpose: it surfaces as an event) proves they were all handled. None reached the session.
    fake.sendRaw('[1]');
    await seen('error VW_ERR_BAD_JSON');
    assert.equal(session.stats.lateDropped, 3);
    assert.ok(audio.every((a) => a.responseId === 'deepgram_resp_1'));
  });

  test('sends KeepAlive on its interval', async () => {
    const { fake } = await open({}, 20);
    await fake.until(() => fake.recordsOf('keep-alive').length >= 2, 'two KeepAlives');
  });

  test('a wrong key is VW_ERR_MODEL_UNAVAILABLE (HTTP 401) at connect', async () => {
    const fake = await FakeDeepgramServer.start();
    fakes.push(fake);
    const session = new DeepgramAgentSession({ callerFormat: TWILIO_FORMAT, apiKey: 'wrong', url: fake.url() });
    await assert.rejects(session.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_UNAVAILABLE') && /401/.test(err.message));
  });

  test('an Error message after the handshake is VW_ERR_MODEL_EVENT and the session goes on', async () => {
    const { fake, seen, session, log } = await open();
    fake.send({ type: 'Error', description: 'LLM failed', code: 'THINK_FAILED' });
    fake.sendRaw('[1]');
    await seen('error VW_ERR_BAD_JSON');
    assert.deepEqual(log, ['error VW_ERR_MODEL_EVENT', 'error VW_ERR_BAD_JSON']);
    assert.equal(session.stats.malformedEvents, 1);
    assert.equal(session.stats.state, 'open');
  });
});
