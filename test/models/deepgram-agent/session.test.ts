/**
 * DeepgramAgentSession against the fake Voice Agent server over real sockets: Welcome → Settings →
 * SettingsApplied, μ-law passing through untouched both ways, UserStartedSpeaking as barge-in
 * with the old answer's late audio dropped, the heard note as UpdatePrompt, KeepAlive.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PCM16_16K, TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import type { ModelAudio, ModelEvents } from '../../../src/models/model.js';
import { DeepgramAgentSession } from '../../../src/models/deepgram-agent/session.js';
import { FakeDeepgramServer, type FakeDeepgramOptions } from '../../fakes/deepgram-agent-server.js';
import { PCM_16K, ULAW_8K, tone } from '../../fakes/model-fake-audio.js';
import { Conditions } from '../../helpers/conditions.js';
import { CHARS_PER_MS, cutAtFraction } from '../../../src/models/shared/answers.js';

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
    await until(() => audio.reduce((sum, a) => sum + a.durationMs, 0) >= 2500, '2.5 s of answer');
    session.appendAudio(tone(ULAW_8K, 0, 200), 200);
    await seen('speechStarted');
    await seen('done deepgram_resp_1 cancelled');
    const deliveredMs = audio.reduce((sum, a) => sum + a.durationMs, 0);
    session.interrupt({ itemId: 'deepgram_item_1', audioEndMs: 2000 });
    await fake.until(() => fake.recordsOf('update-prompt').length === 1, 'UpdatePrompt');
    // The text came ahead of the audio and the answer was cut short: 2 s of the answer's estimated length.
    const text = fake.options.transcript;
    const expected = cutAtFraction(text, 2000 / Math.max(deliveredMs, text.length / CHARS_PER_MS));
    assert.ok(expected.split(' ').length >= 3, expected);
    assert.equal(fake.recordsOf('update-prompt')[0]!.text, `The caller interrupted your last answer and heard only this part of it: "${expected}". Treat the rest as not said.`);
    assert.equal(fake.recordsOf('interrupted').length, 1);
    // The three late frames follow UserStartedSpeaking on the socket; a frame sent after them
    // (malformed on purpose: it surfaces as an event) proves they were all handled. None reached the session.
    fake.sendRaw('[1]');
    await seen('error VW_ERR_BAD_JSON');
    assert.equal(session.stats.lateDropped, 3);
    assert.ok(audio.every((a) => a.responseId === 'deepgram_resp_1'));
  });

  test('a PCM caller (the browser) gets linear16 at its own rate both ways: still no conversion', async () => {
    const fake = await FakeDeepgramServer.start({ answerMs: 500, speedFactor: 20 });
    fakes.push(fake);
    const session = new DeepgramAgentSession({ callerFormat: PCM16_16K, apiKey: 'test-key', url: fake.url() });
    sessions.push(session);
    const conditions = new Conditions('deepgram pcm test');
    const audio: ModelAudio[] = [];
    session.attach({
      speechStarted: () => undefined, speechStopped: () => undefined, responseStarted: () => undefined,
      audio: (chunk) => {
        audio.push(chunk);
        conditions.notify();
        return Promise.resolve();
      },
      sentenceEnd: () => undefined, responseDone: () => undefined, transcript: () => undefined, error: () => undefined, closed: () => undefined,
    });
    await session.connect();
    const settings = JSON.parse(fake.settings.at(0)!.text!) as { audio: { input: unknown; output: unknown } };
    assert.deepEqual(settings.audio.input, { encoding: 'linear16', sample_rate: 16000 });
    assert.deepEqual(settings.audio.output, { encoding: 'linear16', sample_rate: 16000, container: 'none' });
    fake.respond();
    await conditions.until(() => audio.reduce((sum, a) => sum + a.durationMs, 0) >= 500, 5000, 'answer');
    assert.deepEqual(Buffer.concat(audio.map((a) => a.bytes)), Buffer.from(tone(PCM_16K, 0, 500)));
  });

  test('sends KeepAlive on its interval', async () => {
    const { fake } = await open({}, 20);
    await fake.until(() => fake.recordsOf('keep-alive').length >= 2, 'two KeepAlives');
  });

  test('a wrong key is VW_ERR_MODEL_CONNECT (HTTP 401, close 4012) at connect', async () => {
    const fake = await FakeDeepgramServer.start();
    fakes.push(fake);
    const session = new DeepgramAgentSession({ callerFormat: TWILIO_FORMAT, apiKey: 'wrong', url: fake.url() });
    await assert.rejects(session.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /401/.test(err.message));
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
