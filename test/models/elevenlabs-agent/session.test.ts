/**
 * ElevenLabsAgentSession against the fake Agents server over real sockets: initiation → metadata,
 * μ-law passing through (or PCM resampled) by the agent's formats, pings answered, `interruption`
 * as barge-in with older event ids dropped, what was heard as `contextual_update`, unsupported
 * agent formats refused at connect.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError } from '../../../src/errors.js';
import type { ModelAudio, ModelEvents, ToolDefinition } from '../../../src/models/model.js';
import { failureOutput } from '../../../src/agent/tool-runner.js';
import { ElevenLabsAgentSession } from '../../../src/models/elevenlabs-agent/session.js';
import { FakeElevenServer, type FakeElevenOptions } from '../../fakes/elevenlabs-agent-server.js';
import { ULAW_8K, tone } from '../../fakes/model-fake-audio.js';
import { Conditions } from '../../helpers/conditions.js';
import { CHARS_PER_MS, cutAtFraction } from '../../../src/models/shared/answers.js';

interface Opened {
  fake: FakeElevenServer;
  session: ElevenLabsAgentSession;
  log: string[];
  audio: ModelAudio[];
  seen: (line: string) => Promise<void>;
  until: (check: () => boolean, what: string) => Promise<void>;
}

describe('ElevenLabsAgentSession', () => {
  const fakes: FakeElevenServer[] = [];
  const sessions: ElevenLabsAgentSession[] = [];
  after(async () => {
    for (const s of sessions) s.close();
    for (const f of fakes) await f.close();
  });

  async function open(options: FakeElevenOptions = {}, tools?: readonly ToolDefinition[]): Promise<Opened> {
    const fake = await FakeElevenServer.start({ answerMs: 1000, speedFactor: 20, ...options });
    fakes.push(fake);
    const session = new ElevenLabsAgentSession({
      callerFormat: TWILIO_FORMAT, apiKey: 'test-key', agentId: 'agent_fake', url: fake.url(), instructions: 'Be brief.', ...(tools ? { tools } : {}),
    });
    sessions.push(session);
    const log: string[] = [];
    const audio: ModelAudio[] = [];
    const conditions = new Conditions('elevenlabs session test');
    const push = (line: string): void => {
      log.push(line);
      conditions.notify();
    };
    session.attach({
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
      transcript: () => undefined,
      error: (e) => push(`error ${e.code}`),
      closed: (_r, e) => push(`closed ${e?.code}`),
      toolCalls: (calls) => {
        for (const c of calls) push(`toolCall ${c.callId} ${c.name} ${c.arguments}`);
      },
    } satisfies ModelEvents);
    await session.connect();
    return {
      fake, session, log, audio,
      seen: (line) => conditions.until(() => log.includes(line), 5000, line),
      until: (check, what) => conditions.until(check, 5000, what),
    };
  }

  const totalMs = (audio: ModelAudio[]): number => audio.reduce((sum, a) => sum + a.durationMs, 0);

  test('sends the initiation with the prompt override and passes ulaw_8000 through byte for byte', async () => {
    const { fake, session, audio, until } = await open();
    assert.deepEqual(JSON.parse(fake.initiations.at(0)!.text!), { type: 'conversation_initiation_client_data', conversation_config_override: { agent: { prompt: { prompt: 'Be brief.' } } } });
    assert.equal(session.stats.conversationId, 'conv_fake1');
    session.appendAudio(tone(ULAW_8K, 0, 300), 300);
    session.appendAudio(new Uint8Array(8 * 600).fill(0xff), 600);
    await until(() => totalMs(audio) >= 1000, 'the answer');
    assert.deepEqual(Buffer.concat(audio.map((a) => a.bytes)), Buffer.from(tone(ULAW_8K, 0, 1000)));
    assert.ok(audio.every((a) => a.responseId === 'eleven_resp_1'));
  });

  test('answers every ping with a pong carrying its event_id', async () => {
    const { fake } = await open({ pingEveryMs: 10 });
    await fake.until(() => fake.recordsOf('pong').length >= 3, 'three pongs');
    const pings = fake.recordsOf('ping').map((r) => r.eventId);
    assert.deepEqual(fake.recordsOf('pong').map((r) => r.eventId), pings.slice(0, fake.recordsOf('pong').length));
  });

  test('interruption is a barge-in: late audio of older event ids is dropped; what was heard goes out as contextual_update', async () => {
    const { fake, session, audio, seen, until } = await open({ answerMs: 4000, speedFactor: 2, lateChunksAfterInterrupt: 3 });
    fake.respond();
    await until(() => totalMs(audio) >= 2500, '2.5 s of answer');
    session.appendAudio(tone(ULAW_8K, 0, 200), 200);
    await seen('speechStarted');
    await seen('done eleven_resp_1 cancelled');
    const deliveredMs = totalMs(audio);
    session.interrupt({ itemId: 'eleven_item_1', audioEndMs: 2000 });
    await fake.until(() => fake.recordsOf('contextual-update').length === 1, 'contextual_update');
    // The text came ahead of the audio and the answer was cut short: 2 s of the answer's estimated length.
    const text = fake.options.transcript;
    const expected = cutAtFraction(text, 2000 / Math.max(deliveredMs, text.length / CHARS_PER_MS));
    assert.ok(expected.split(' ').length >= 3, expected);
    assert.equal(fake.recordsOf('contextual-update')[0]!.text, `The caller interrupted your last answer and heard only this part of it: "${expected}". Treat the rest as not said.`);
    // A frame after the late ones (malformed on purpose: it surfaces as an event) proves they were handled.
    fake.sendRaw('[1]');
    await seen('error VW_ERR_BAD_JSON');
    assert.equal(session.stats.lateDropped, 3);
    assert.ok(audio.every((a) => a.responseId === 'eleven_resp_1'));
  });

  test('a client tool call is answered with an error result so the agent does not wait', async () => {
    const { fake } = await open();
    fake.send({ type: 'client_tool_call', client_tool_call: { tool_name: 'check_account', tool_call_id: 'call_7', parameters: {} } });
    await fake.until(() => fake.recordsOf('client-tool-result').length === 1, 'tool result');
    assert.deepEqual(JSON.parse(fake.recordsOf('client-tool-result')[0]!.text!), {
      type: 'client_tool_result', tool_call_id: 'call_7', result: 'The tool check_account is not available.', is_error: true,
    });
  });

  test('a call of an offered client tool goes to the agent; its output comes back, is_error only for a failure output', async () => {
    const { fake, session, seen } = await open({ pingEveryMs: 50 }, [{ name: 'check_account', description: 'd', parameters: { type: 'object' } }]);
    fake.send({ type: 'client_tool_call', client_tool_call: { tool_name: 'check_account', tool_call_id: 'call_8', parameters: { id: '42' } } });
    fake.send({ type: 'client_tool_call', client_tool_call: { tool_name: 'check_account', tool_call_id: 'call_9', parameters: {} } });
    await seen('toolCall call_8 check_account {"id":"42"}');
    await seen('toolCall call_9 check_account {}');
    session.toolResult('call_8', '{"balance":"42.00"}', true);
    session.toolResult('call_9', failureOutput('check_account', 'timeout'), true);
    session.toolResult('call_8', 'a second result for the same call is not sent', true);
    await fake.until(() => fake.recordsOf('client-tool-result').length >= 2, 'the two results');
    // A pong arriving after them was written after them (one ordered socket), so after any third result too.
    const pongs = fake.recordsOf('pong').length;
    await fake.until(() => fake.recordsOf('pong').length > pongs, 'a pong after the results');
    assert.equal(fake.recordsOf('client-tool-result').length, 2);
    assert.deepEqual(fake.recordsOf('client-tool-result').map((r) => JSON.parse(r.text!) as unknown), [
      { type: 'client_tool_result', tool_call_id: 'call_8', result: '{"balance":"42.00"}', is_error: false },
      { type: 'client_tool_result', tool_call_id: 'call_9', result: failureOutput('check_account', 'timeout'), is_error: true },
    ]);
  });

  test('PCM agents are resampled to the caller format', async () => {
    const { session, audio, until } = await open({ outputFormat: 'pcm_16000', inputFormat: 'pcm_16000' });
    session.appendAudio(tone(ULAW_8K, 0, 300), 300);
    session.appendAudio(new Uint8Array(8 * 600).fill(0xff), 600);
    await until(() => totalMs(audio) >= 990, 'the answer');
    assert.ok(audio.every((a) => a.bytes.length === Math.round(a.durationMs * 8)), 'μ-law 8 kHz bytes');
  });

  test('an agent format voicewire cannot resample refuses the call at connect', async () => {
    const fake = await FakeElevenServer.start({ outputFormat: 'pcm_44100' });
    fakes.push(fake);
    const session = new ElevenLabsAgentSession({ callerFormat: TWILIO_FORMAT, apiKey: 'test-key', agentId: 'agent_fake', url: fake.url() });
    await assert.rejects(session.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /pcm_44100/.test(err.message));
  });

  test('a wrong key is VW_ERR_MODEL_CONNECT (HTTP 401, close 4012) at connect', async () => {
    const fake = await FakeElevenServer.start();
    fakes.push(fake);
    const session = new ElevenLabsAgentSession({ callerFormat: TWILIO_FORMAT, apiKey: 'wrong', agentId: 'agent_fake', url: fake.url() });
    await assert.rejects(session.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /401/.test(err.message));
  });
});
