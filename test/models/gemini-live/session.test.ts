/**
 * GeminiLiveSession against the fake Gemini Live server over real sockets: setup and handshake,
 * audio both ways in the right formats, goAway → a new socket resuming with the last handle and no
 * call dropped, an unexpected drop → resumed too, a refused connection → a coded error.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import type { ModelEvents, TokenUsage } from '../../../src/models/model.js';
import { GeminiLiveSession } from '../../../src/models/gemini-live/session.js';
import { FAKE_USAGE_METADATA, FakeGeminiServer } from '../../fakes/gemini-live-server.js';
import { ULAW_8K, tone } from '../../fakes/model-fake-audio.js';
import { Conditions } from '../../helpers/conditions.js';

function events(log: string[], audioMs: { value: number }, conditions: Conditions, usages: TokenUsage[]): ModelEvents {
  const push = (line: string): void => {
    log.push(line);
    conditions.notify();
  };
  return {
    speechStarted: () => push('speechStarted'),
    speechStopped: () => undefined,
    responseStarted: (id) => push(`started ${id}`),
    audio: (chunk) => {
      audioMs.value += chunk.durationMs;
      return Promise.resolve();
    },
    sentenceEnd: () => undefined,
    responseDone: (id, status, usage) => {
      if (usage !== undefined) usages.push(usage);
      push(`done ${id} ${status}`);
    },
    transcript: () => undefined,
    error: (e) => push(`error ${e.code}`),
    closed: (_reason, e) => push(`closed ${e?.code}`),
  };
}

describe('GeminiLiveSession', () => {
  const fakes: FakeGeminiServer[] = [];
  const sessions: GeminiLiveSession[] = [];
  after(async () => {
    for (const s of sessions) s.close();
    for (const f of fakes) await f.close();
  });

  interface Opened { fake: FakeGeminiServer; session: GeminiLiveSession; log: string[]; audioMs: { value: number }; usages: TokenUsage[]; seen: (line: string) => Promise<void> }
  async function open(options: Parameters<typeof FakeGeminiServer.start>[0] = {}): Promise<Opened> {
    const fake = await FakeGeminiServer.start({ answerMs: 1000, speedFactor: 20, ...options });
    fakes.push(fake);
    const session = new GeminiLiveSession({ callerFormat: TWILIO_FORMAT, apiKey: 'test-key', url: fake.url(), voice: 'Puck', instructions: 'Be brief.', reconnect: { backoffMs: 10 } });
    sessions.push(session);
    const log: string[] = [];
    const audioMs = { value: 0 };
    const conditions = new Conditions('gemini session test');
    const usages: TokenUsage[] = [];
    session.attach(events(log, audioMs, conditions, usages));
    await session.connect();
    return { fake, session, log, audioMs, usages, seen: (line) => conditions.until(() => log.includes(line), 5000, line) };
  }

  test('sends setup, converts caller μ-law to 16 kHz PCM and model 24 kHz PCM to μ-law', async () => {
    const { fake, session, log, audioMs, usages, seen } = await open();
    const setup = fake.setups.at(0)!.setup as { model: string; generationConfig: { responseModalities: string[] } };
    assert.equal(setup.model, 'models/gemini-3.1-flash-live-preview');
    assert.deepEqual(setup.generationConfig.responseModalities, ['AUDIO']);
    session.appendAudio(new Uint8Array(8 * 300).fill(0xff), 300);
    session.appendAudio(tone(ULAW_8K, 0, 400), 400);
    session.appendAudio(new Uint8Array(8 * 600).fill(0xff), 600);
    await seen('done gemini_resp_1 completed');
    assert.equal(Math.round(fake.appendedMs), 1300);
    // 1000 ms at 24 kHz resampled to 8 kHz: the resampler's filter delay holds back under 3 ms.
    assert.ok(audioMs.value > 995 && audioMs.value <= 1000, `delivered ${audioMs.value} ms`);
    // The gateway's own VAD heard the question while no answer was generating (the session ignores
    // such a speechStarted when the caller holds nothing unplayed).
    assert.deepEqual(log, ['speechStarted', 'started gemini_resp_1', 'done gemini_resp_1 completed']);
    // The turnComplete's usageMetadata reaches responseDone.
    assert.deepEqual(usages, [{ inputTokens: FAKE_USAGE_METADATA.promptTokenCount, outputTokens: FAKE_USAGE_METADATA.responseTokenCount }]);
    assert.equal(session.stats.localBargeIns, 1);
  });

  test('the gateway VAD raises speechStarted only while no answer is generating (Gemini interrupts the rest)', async () => {
    const { fake, session, log, seen } = await open({ answerMs: 4000, speedFactor: 2 });
    fake.respond();
    await seen('started gemini_resp_1');
    session.appendAudio(new Uint8Array(8 * 300).fill(0xff), 300);
    session.appendAudio(tone(ULAW_8K, 0, 200), 200);
    await seen('done gemini_resp_1 cancelled');
    assert.equal(session.stats.localBargeIns, 0, 'Gemini itself interrupted the answer it was generating');
    assert.deepEqual(log, ['started gemini_resp_1', 'speechStarted', 'done gemini_resp_1 cancelled']);
  });

  test('goAway switches to a new socket that resumes with the last handle; the session stays up', async () => {
    const { fake, session, log, seen } = await open();
    const handles = [...fake.issuedHandles];
    fake.goAway(2000);
    await fake.until(() => fake.setups.length === 2, 'resumed setup');
    const resumed = fake.setups.at(1)!.setup as { sessionResumption: { handle?: string } };
    assert.equal(resumed.sessionResumption.handle, handles.at(-1));
    await fake.until(() => fake.eventsOf('setup-complete').length === 2, 'new socket configured');
    fake.respond(200);
    await seen('done gemini_resp_1 completed');
    assert.equal(session.stats.plannedSwitches, 1);
    assert.equal(session.stats.state, 'open');
    assert.ok(!log.some((l) => l.startsWith('closed')));
  });

  test('an unexpected drop resumes with the handle; the answer in flight ends as failed', async () => {
    const { fake, session, seen } = await open({ answerMs: 3000, speedFactor: 5 });
    fake.respond();
    await seen('started gemini_resp_1');
    fake.drop();
    await fake.until(() => fake.setups.length === 2, 'resumed setup');
    const resumed = fake.setups.at(1)!.setup as { sessionResumption: { handle?: string } };
    assert.ok(resumed.sessionResumption.handle?.startsWith('fake-handle-1-'));
    await seen('done gemini_resp_1 failed');
    await fake.until(() => fake.eventsOf('setup-complete').length === 2, 'new socket configured');
    fake.respond(200);
    await seen('done gemini_resp_2 completed');
    assert.equal(session.stats.reconnects, 1);
  });

  test('a refused connection is VW_ERR_MODEL_CONNECT at connect', async () => {
    const fake = await FakeGeminiServer.start();
    fakes.push(fake);
    const session = new GeminiLiveSession({ callerFormat: TWILIO_FORMAT, apiKey: 'wrong', url: fake.url() });
    await assert.rejects(session.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /401/.test(err.message));
  });

  test('malformed frames are coded errors and the session goes on', async () => {
    const { fake, session, log, seen } = await open();
    fake.sendRaw('{nope');
    fake.send({ goAway: { timeLeft: 'later' } });
    fake.respond(200);
    await seen('done gemini_resp_1 completed');
    assert.deepEqual(log.filter((l) => l.startsWith('error')), ['error VW_ERR_BAD_JSON', 'error VW_ERR_BAD_FIELD']);
    assert.equal(session.stats.malformedEvents, 2);
  });
});
