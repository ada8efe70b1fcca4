/**
 * OpenAIRealtimeSession with GA function calling and input transcription, against the fake
 * Realtime server over real sockets (test/fakes/realtime-server-tools.ts speaks the events).
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { OpenAIRealtimeSession } from '../../../src/models/openai-realtime/client.js';
import type { OpenAIRealtimeOptions } from '../../../src/models/openai-realtime/options.js';
import type { ModelEvents, ModelToolCall } from '../../../src/models/model.js';
import { Conditions } from '../../helpers/conditions.js';
import { silenceBytes, toneBytes } from '../../fakes/realtime-server-audio.js';
import { FakeRealtimeServer, type FakeRealtimeOptions } from '../../fakes/realtime-server.js';

/** Records what a session would act on: tool calls, caller transcripts, responses. */
class Recorder implements ModelEvents {
  readonly toolCallBatches: ModelToolCall[][] = [];
  readonly callerTexts: string[] = [];
  readonly done: { id: string; status: string }[] = [];
  readonly started: string[] = [];
  private readonly conditions = new Conditions('recorder');
  speechStarted(): void {}
  speechStopped(): void {}
  responseStarted(id: string): void {
    this.started.push(id);
    this.conditions.notify();
  }
  audio(): Promise<void> {
    return Promise.resolve();
  }
  sentenceEnd(): void {}
  responseDone(id: string, status: string): void {
    this.done.push({ id, status });
    this.conditions.notify();
  }
  transcript(): void {}
  toolCalls(calls: readonly ModelToolCall[]): void {
    this.toolCallBatches.push([...calls]);
    this.conditions.notify();
  }
  callerTranscript(_itemId: string | undefined, text: string): void {
    this.callerTexts.push(text);
    this.conditions.notify();
  }
  error(): void {}
  closed(): void {}
  until(check: () => boolean, what: string): Promise<void> {
    return this.conditions.until(check, 5000, what);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connected(fakeOptions: FakeRealtimeOptions, options: Partial<OpenAIRealtimeOptions> = {}) {
  const fake = await FakeRealtimeServer.start(fakeOptions);
  cleanups.push(() => fake.close());
  const session = new OpenAIRealtimeSession({ callerFormat: TWILIO_FORMAT, apiKey: 'test-key', url: fake.url(), connectTimeoutMs: 3000, ...options });
  const events = new Recorder();
  session.attach(events);
  cleanups.push(() => session.close());
  await session.connect();
  return { fake, session, events };
}

function speak(session: OpenAIRealtimeSession, speechMs: number, silenceMs: number): void {
  for (let ms = 0; ms < speechMs; ms += 20) session.appendAudio(toneBytes('pcmu', ms, 20), 20);
  const quiet = silenceBytes('pcmu', 20);
  for (let ms = 0; ms < silenceMs; ms += 20) session.appendAudio(quiet, 20);
}

const LOOKUP = { name: 'lookup_order', description: 'Look up an order.', parameters: { type: 'object', properties: { id: { type: 'string' } } } };

describe('OpenAIRealtimeSession: function calling', () => {
  test('tools reach session.update as GA function tools with tool_choice auto', async () => {
    const { fake } = await connected({}, { tools: [LOOKUP] });
    const session = fake.log.sessionUpdates.at(-1) as Record<string, unknown>;
    assert.deepEqual(session.tools, [{ type: 'function', ...LOOKUP }]);
    assert.equal(session.tool_choice, 'auto');
  });

  test('a function call is delivered once its response is done, with the final arguments', async () => {
    const args = '{"id":"A-1042"}';
    const { fake, session, events } = await connected({
      speedFactor: 20, script: [{ audioMs: 300, text: 'Let me check.', functionCall: { name: 'lookup_order', arguments: args } }],
    }, { tools: [LOOKUP] });
    speak(session, 400, 700);
    await events.until(() => events.toolCallBatches.length === 1, 'the tool call');
    const made = fake.log.functionCalls[0]!;
    assert.deepEqual(events.toolCallBatches[0], [{ responseId: made.responseId, callId: made.callId, name: 'lookup_order', arguments: args }]);
    // Delivered after responseDone: the session sees the response finish first.
    assert.equal(events.done.at(-1)?.id, made.responseId);
  });

  test('toolResult with respond adds the output then asks for the answer', async () => {
    const { fake, session, events } = await connected({
      speedFactor: 20, script: [{ audioMs: 0, functionCall: { name: 'lookup_order', arguments: '{}' } }, { audioMs: 200, text: 'It shipped.' }],
    }, { tools: [LOOKUP] });
    speak(session, 400, 700);
    await events.until(() => events.toolCallBatches.length === 1, 'the tool call');
    const callId = events.toolCallBatches[0]![0]!.callId;
    session.toolResult(callId, '{"status":"shipped"}', true);
    await events.until(() => events.done.length === 2, 'the answer to the tool output');
    assert.deepEqual(fake.log.functionOutputs.map((o) => [o.callId, o.output]), [[callId, '{"status":"shipped"}']]);
    const types = fake.received.map((r) => r.type).filter((t) => t === 'conversation.item.create' || t === 'response.create');
    // The server VAD answered the committed turn itself; the tool output's answer is the client's.
    assert.deepEqual(types, ['conversation.item.create', 'response.create']);
  });

  test('toolResult without respond only adds the output: no response.create', async () => {
    const { fake, session, events } = await connected({
      speedFactor: 20, script: [{ audioMs: 0, functionCall: { name: 'lookup_order', arguments: '{}' } }],
    }, { tools: [LOOKUP] });
    speak(session, 400, 700);
    await events.until(() => events.toolCallBatches.length === 1, 'the tool call');
    session.toolResult(events.toolCallBatches[0]![0]!.callId, 'late', false);
    await fake.waitFor(() => fake.log.functionOutputs.length === 1, 'the output item');
    // The committed turn was answered by the server VAD: none from the client at all.
    assert.equal(fake.received.filter((r) => r.type === 'response.create').length, 0);
  });

  test('a cancelled response delivers no tool call', async () => {
    const { fake, session, events } = await connected({
      speedFactor: 2, interruptResponse: true, script: [{ audioMs: 3000, functionCall: { name: 'lookup_order', arguments: '{}' } }],
    }, { tools: [LOOKUP] });
    speak(session, 400, 700);
    await events.until(() => events.started.length === 1, 'the response');
    fake.emitSpeechStarted();
    await events.until(() => events.done.length === 1, 'the cancelled response');
    assert.equal(events.done[0]!.status, 'cancelled');
    assert.deepEqual(events.toolCallBatches, []);
    assert.equal(fake.log.functionCalls.length, 0);
  });
});

describe('OpenAIRealtimeSession: greeting', () => {
  test('greet asks for one response whose instructions carry the greeting', async () => {
    const { fake, session, events } = await connected({ speedFactor: 20, answerMs: 200 });
    session.greet('Welcome to Acme!');
    await events.until(() => events.done.length === 1, 'the greeting response');
    const create = fake.received.find((r) => r.type === 'response.create')!;
    assert.deepEqual((create.event as { response?: unknown }).response, { instructions: 'Greet the caller by saying exactly this, then wait for them: Welcome to Acme!' });
  });
});

describe('OpenAIRealtimeSession: input transcription', () => {
  test('with a transcribe model the session asks for transcription and reports what the caller said', async () => {
    const { fake, session, events } = await connected({ speedFactor: 20, answerMs: 200, callerTranscript: 'where is my order' }, { transcribeModel: 'gpt-4o-mini-transcribe' });
    const sent = fake.log.sessionUpdates.at(-1) as { audio: { input: Record<string, unknown> } };
    assert.deepEqual(sent.audio.input.transcription, { model: 'gpt-4o-mini-transcribe' });
    speak(session, 400, 700);
    await events.until(() => events.callerTexts.length === 1, 'the caller transcript');
    assert.deepEqual(events.callerTexts, ['where is my order']);
  });

  test('without one, no transcription is configured', async () => {
    const { fake } = await connected({});
    const sent = fake.log.sessionUpdates.at(-1) as { audio: { input: Record<string, unknown> } };
    assert.equal('transcription' in sent.audio.input, false);
  });
});
