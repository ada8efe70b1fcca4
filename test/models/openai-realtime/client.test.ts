/**
 * OpenAIRealtimeSession against the fake Realtime server over real sockets on 127.0.0.1.
 * Every wait is on an event (the fake's log or the recorded ModelEvents) with a deadline.
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, describe, test } from 'node:test';
import WebSocket from 'ws';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import { isVoicewireError, type VoicewireError } from '../../../src/errors.js';
import { OpenAIRealtimeSession } from '../../../src/models/openai-realtime/client.js';
import type { OpenAIRealtimeOptions } from '../../../src/models/openai-realtime/options.js';
import { HEARD_PENDING, type ModelAudio, type ModelEvents, type TokenUsage } from '../../../src/models/model.js';
import { silenceBytes, toneBytes } from '../../fakes/realtime-server-audio.js';
import { FAKE_RESPONSE_USAGE } from '../../fakes/realtime-server-connection.js';
import { FakeRealtimeServer, type FakeRealtimeOptions } from '../../fakes/realtime-server.js';

type Recorded =
  | { kind: 'speechStarted' }
  | { kind: 'speechStopped' }
  | { kind: 'responseStarted'; responseId: string }
  | { kind: 'audio'; chunk: ModelAudio }
  | { kind: 'sentenceEnd'; responseId: string; sentenceId: number }
  | { kind: 'responseDone'; responseId: string; status: string; usage?: TokenUsage }
  | { kind: 'transcript'; responseId: string; text: string }
  | { kind: 'error'; error: VoicewireError }
  | { kind: 'closed'; reason: string; error: VoicewireError | undefined };

/** ModelEvents that records every call in order; hooks let a test react like a session would. */
class RecordingEvents extends EventEmitter implements ModelEvents {
  readonly calls: Recorded[] = [];
  onSpeechStarted: (() => void) | undefined;

  private record(call: Recorded): void {
    this.calls.push(call);
    this.emit('call');
  }
  speechStarted(): void {
    this.record({ kind: 'speechStarted' });
    this.onSpeechStarted?.();
  }
  speechStopped(): void {
    this.record({ kind: 'speechStopped' });
  }
  responseStarted(responseId: string): void {
    this.record({ kind: 'responseStarted', responseId });
  }
  audio(chunk: ModelAudio): Promise<void> {
    this.record({ kind: 'audio', chunk });
    return Promise.resolve();
  }
  sentenceEnd(responseId: string, sentenceId: number): void {
    this.record({ kind: 'sentenceEnd', responseId, sentenceId });
  }
  responseDone(responseId: string, status: string, usage?: TokenUsage): void {
    this.record({ kind: 'responseDone', responseId, status, ...(usage === undefined ? {} : { usage }) });
  }
  transcript(responseId: string, text: string): void {
    this.record({ kind: 'transcript', responseId, text });
  }
  error(error: VoicewireError): void {
    this.record({ kind: 'error', error });
  }
  closed(reason: string, error?: VoicewireError): void {
    this.record({ kind: 'closed', reason, error });
  }

  of<K extends Recorded['kind']>(kind: K): Array<Extract<Recorded, { kind: K }>> {
    return this.calls.filter((c): c is Extract<Recorded, { kind: K }> => c.kind === kind);
  }

  audioOf(responseId: string): ModelAudio[] {
    return this.of('audio').map((c) => c.chunk).filter((c) => c.responseId === responseId);
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onCall = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => c.kind).join(',')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('call', onCall);
      };
      this.on('call', onCall);
    });
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(options: FakeRealtimeOptions = {}): Promise<FakeRealtimeServer> {
  const fake = await FakeRealtimeServer.start(options);
  cleanups.push(() => fake.close());
  return fake;
}

function makeSession(fake: FakeRealtimeServer, options: Partial<OpenAIRealtimeOptions> = {}): { session: OpenAIRealtimeSession; events: RecordingEvents } {
  const session = new OpenAIRealtimeSession({
    callerFormat: TWILIO_FORMAT,
    apiKey: 'test-key',
    url: fake.url(),
    instructions: 'Be brief.',
    reconnect: { attempts: 1, backoffMs: 20 },
    connectTimeoutMs: 3000,
    ...options,
  });
  const events = new RecordingEvents();
  session.attach(events);
  cleanups.push(() => session.close());
  return { session, events };
}

async function connected(fakeOptions: FakeRealtimeOptions = {}, options: Partial<OpenAIRealtimeOptions> = {}) {
  const fake = await startFake(fakeOptions);
  const { session, events } = makeSession(fake, options);
  await session.connect();
  return { fake, session, events };
}

/** Appends a tone then silence (μ-law, 20 ms frames): enough for the fake's VAD to see a turn. */
function speak(session: OpenAIRealtimeSession, speechMs: number, silenceMs: number): void {
  for (let ms = 0; ms < speechMs; ms += 20) session.appendAudio(toneBytes('pcmu', ms, 20), 20);
  const quiet = silenceBytes('pcmu', 20);
  for (let ms = 0; ms < silenceMs; ms += 20) session.appendAudio(quiet, 20);
}

describe('OpenAIRealtimeSession: connect', () => {
  test('sends a GA session.update (no beta fields, no OpenAI-Beta header) and resolves on session.updated', async () => {
    const { fake, session } = await connected();
    assert.equal(session.stats.state, 'open');
    assert.deepEqual(fake.log.sessionUpdates[0], {
      type: 'realtime',
      output_modalities: ['audio'],
      instructions: 'Be brief.',
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          // The server VAD creates the answers (turned off only around a barge-in's pending truncate).
          turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true },
        },
        output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
      },
    });
    assert.equal(fake.log.errorsSent.length, 0, 'the fake accepted the update');
    const headers = fake.log.connections[0]!.headers;
    assert.equal(headers.authorization, 'Bearer test-key');
    assert.equal(headers['openai-beta'], undefined);
    assert.equal(headers['sec-websocket-extensions'], undefined, 'permessage-deflate is off');
  });

  test('Azure: an *.openai.azure.com URL authenticates with the api-key header', async () => {
    const fake = await startFake({ auth: 'api-key' });
    const azureUrl = 'wss://my-res.openai.azure.com/openai/v1/realtime?model=my-deployment';
    // Route the Azure host to the fake while keeping the URL the client reasons about.
    class ToFake extends WebSocket {
      constructor(url: string, options: WebSocket.ClientOptions) {
        super(url.replace('wss://my-res.openai.azure.com', `ws://127.0.0.1:${fake.port}`), options);
      }
    }
    const { session } = makeSession(fake, { url: azureUrl, WebSocketImpl: ToFake });
    await session.connect();
    const record = fake.log.connections[0]!;
    assert.equal(record.headers['api-key'], 'test-key');
    assert.equal(record.headers.authorization, undefined);
    assert.equal(record.url, '/openai/v1/realtime?model=my-deployment');
  });

  test('a wrong key (HTTP 401) rejects connect with VW_ERR_MODEL_CONNECT', async () => {
    const fake = await startFake();
    const { session } = makeSession(fake, { apiKey: 'wrong' });
    await assert.rejects(session.connect(), (err: unknown) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /401/.test(err.message));
    assert.equal(session.stats.state, 'closed');
  });

  test('a rejected session.update rejects connect with the model error code', async () => {
    const fake = await startFake({ sessionUpdateFault: { type: 'invalid_request_error', code: 'invalid_value', message: 'nope', param: 'session.audio' } });
    const { session } = makeSession(fake);
    await assert.rejects(session.connect(), (err: unknown) => isVoicewireError(err, 'VW_ERR_MODEL_EVENT') && err.message.includes('invalid_value'));
  });

  test('no session.updated before the deadline rejects connect with VW_ERR_MODEL_CONNECT', async () => {
    const fake = await startFake({ sessionUpdateFault: 'ignore' });
    const { session } = makeSession(fake, { connectTimeoutMs: 300 });
    await assert.rejects(session.connect(), (err: unknown) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT'));
    await fake.waitFor(() => fake.log.closes.length === 1, 'the socket closed');
  });

  test('close() during connect rejects it with VW_ERR_CLOSED', async () => {
    const fake = await startFake({ sessionUpdateFault: 'ignore' });
    const { session } = makeSession(fake);
    const connecting = session.connect();
    await fake.waitFor(() => fake.log.sessionUpdates.length === 1, 'session.update');
    session.close();
    await assert.rejects(connecting, (err: unknown) => isVoicewireError(err, 'VW_ERR_CLOSED'));
  });
});

describe('OpenAIRealtimeSession: audio both ways', () => {
  test('μ-law caller audio reaches the model byte-exact (pcmu passthrough)', async () => {
    const { fake, session } = await connected();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const frame = new Uint8Array(160);
      for (let j = 0; j < 160; j++) frame[j] = 0xf0 | ((i * 7 + j) & 0x0f); // quiet: no VAD turn
      frames.push(frame);
      session.appendAudio(frame, 20);
    }
    await fake.waitFor(() => fake.log.appendedMs >= 1000, '1 s of appended audio');
    assert.deepEqual(new Uint8Array(fake.log.appendedBytes()), new Uint8Array(Buffer.concat(frames)));
    assert.equal(session.stats.inputSentMs, 1000);
  });

  test('inputBatchMs: quiet frames go in 100 ms appends, a loud frame goes at once right behind them, bytes in order', async () => {
    const { fake, session } = await connected({}, { inputBatchMs: 100 });
    const quiet = silenceBytes('pcmu', 20);
    for (let i = 0; i < 10; i++) session.appendAudio(quiet, 20);
    await fake.waitFor(() => fake.log.appendedMs === 200, '200 ms appended');
    const loud = toneBytes('pcmu', 20, 20);
    session.appendAudio(quiet, 20);
    session.appendAudio(quiet, 20);
    session.appendAudio(loud, 20);
    await fake.waitFor(() => fake.log.appendedMs === 260, '260 ms appended');
    const sizes = fake.log.received.filter((r) => r.type === 'input_audio_buffer.append').map((r) => r.event['audioBytes']);
    // Two full batches, then the partial quiet batch flushed by the loud frame, then the loud frame alone.
    assert.deepEqual(sizes, [800, 800, 320, 160]);
    assert.deepEqual(new Uint8Array(fake.log.appendedBytes()), new Uint8Array(Buffer.concat([...Array.from({ length: 12 }, () => quiet), loud])));
  });

  test('inputIdleBatchMs: quiet audio goes in 400 ms appends while the server VAD hears no speech, every frame in 100 ms ones during a turn', async () => {
    const { fake, session, events } = await connected({}, { inputBatchMs: 100, inputIdleBatchMs: 400 });
    const quiet = silenceBytes('pcmu', 20);
    const appendSizes = (): unknown[] => fake.log.received.filter((r) => r.type === 'input_audio_buffer.append').map((r) => r.event['audioBytes']);
    // Configured: the VAD has heard nothing yet.
    for (let i = 0; i < 20; i++) session.appendAudio(quiet, 20);
    await fake.waitFor(() => fake.log.appendedMs === 400, '400 ms appended');
    assert.deepEqual(appendSizes(), [3200]);
    // The onset of speech: every loud frame at once, until the VAD's speech_started switches to turn batching.
    for (let ms = 0; ms < 200; ms += 20) session.appendAudio(toneBytes('pcmu', ms, 20), 20);
    await events.waitFor(() => events.of('speechStarted').length === 1, 'speech_started');
    // The rest of the utterance: the VAD hears speech, so loud frames go in 100 ms appends too.
    for (let ms = 200; ms < 400; ms += 20) session.appendAudio(toneBytes('pcmu', ms, 20), 20);
    // The silence that ends the turn: 100 ms appends (the VAD times it), until speech_stopped.
    for (let i = 0; i < 30; i++) session.appendAudio(quiet, 20);
    await events.waitFor(() => events.of('speechStopped').length === 1, 'speech_stopped');
    for (let i = 0; i < 20; i++) session.appendAudio(quiet, 20);
    await fake.waitFor(() => fake.log.appendedMs === 1800, '1.8 s appended');
    assert.deepEqual(appendSizes(), [3200, ...Array<number>(10).fill(160), 800, 800, ...Array<number>(6).fill(800), 3200]);
  });

  test('audio appended before connect waits (bounded) and is sent once configured', async () => {
    const fake = await startFake();
    const { session } = makeSession(fake);
    for (let i = 0; i < 10; i++) session.appendAudio(silenceBytes('pcmu', 20), 20);
    assert.equal(session.stats.inputQueuedMs, 200);
    await session.connect();
    await fake.waitFor(() => fake.log.appendedMs === 200, '200 ms appended');
    const types = fake.log.received.map((r) => r.type);
    assert.equal(types[0], 'session.update', 'configuration goes before any audio');
  });

  test('model deltas arrive as caller-format audio with durations, one sentence per item, in order', async () => {
    const { fake, events } = await connected({ answerMs: 1000, deltaMs: 100, speedFactor: 20 });
    const id = fake.respond()!;
    await events.waitFor(() => events.of('responseDone').length === 1, 'response.done');
    const audio = events.audioOf(id);
    assert.equal(audio.length, 10);
    assert.ok(audio.every((a) => a.durationMs === 100 && a.sentenceId === 0 && a.itemId === fake.log.responses[0]!.itemId));
    assert.deepEqual(new Uint8Array(Buffer.concat(audio.map((a) => a.bytes))), toneBytes('pcmu', 0, 1000), 'pcmu passthrough out');
    const kinds = events.calls.map((c) => c.kind).filter((k) => k !== 'audio' && k !== 'transcript');
    assert.deepEqual(kinds, ['responseStarted', 'sentenceEnd', 'responseDone']);
    assert.deepEqual(events.of('responseDone')[0], {
      kind: 'responseDone', responseId: id, status: 'completed',
      usage: { inputTokens: FAKE_RESPONSE_USAGE.input_tokens, outputTokens: FAKE_RESPONSE_USAGE.output_tokens },
    });
    assert.deepEqual(events.of('sentenceEnd'), [{ kind: 'sentenceEnd', responseId: id, sentenceId: 0 }]);
    assert.equal(events.of('transcript').map((t) => t.text).join(''), fake.options.transcript);
  });

  test('a PCM16 24 kHz wire is converted both ways for a μ-law caller', async () => {
    const { fake, session, events } = await connected({ answerMs: 1000, speedFactor: 20 }, { wireFormat: 'pcm24k' });
    const update = fake.log.sessionUpdates[0] as { audio: { input: { format: unknown } } };
    assert.deepEqual(update.audio.input.format, { type: 'audio/pcm', rate: 24000 });
    for (let i = 0; i < 25; i++) session.appendAudio(silenceBytes('pcmu', 20), 20);
    await fake.waitFor(() => fake.log.appendedMs >= 490, 'about 500 ms appended (less the resampler delay)');
    assert.ok(fake.log.appendedBytes().length > 480 * 48, 'PCM16 24 kHz bytes: 48 per ms');
    fake.respond();
    await events.waitFor(() => events.of('responseDone').length === 1, 'response.done');
    const ms = events.of('audio').reduce((sum, c) => sum + c.chunk.durationMs, 0);
    assert.ok(Math.abs(ms - 1000) < 20, `μ-law out: ${ms} ms`);
    assert.ok(events.of('audio').every((c) => c.chunk.bytes.length === c.chunk.durationMs * 8));
  });

  test('server VAD turns become speechStarted, speechStopped and an automatic response', async () => {
    const { session, events } = await connected({ answerMs: 300, speedFactor: 20 });
    speak(session, 400, 700);
    await events.waitFor(() => events.of('responseDone').length === 1, 'the automatic response');
    const kinds = events.calls.map((c) => c.kind).filter((k) => k !== 'audio' && k !== 'transcript');
    assert.deepEqual(kinds, ['speechStarted', 'speechStopped', 'responseStarted', 'sentenceEnd', 'responseDone']);
  });
});

describe('OpenAIRealtimeSession: interruption', () => {
  test('interrupt during a response sends response.cancel then truncate; later deltas are dropped', async () => {
    const { fake, session, events } = await connected({ answerMs: 20_000, speedFactor: 5, cancelLagDeltas: 3 });
    const id = fake.respond()!;
    await events.waitFor(() => events.audioOf(id).length >= 2, 'two deltas');
    const itemId = events.audioOf(id)[0]!.itemId;
    session.interrupt({ itemId, audioEndMs: 123.6 });
    const deliveredAtInterrupt = events.audioOf(id).length;
    await events.waitFor(() => events.of('responseDone').length === 1, 'response.done');
    await fake.waitFor(() => fake.log.truncates.length === 1, 'truncate');
    assert.deepEqual(fake.log.cancels.map((c) => [c.responseId, c.active]), [[id, true]]);
    assert.deepEqual(fake.log.truncates.map((t) => [t.itemId, t.contentIndex, t.audioEndMs, t.ok]), [[itemId, 0, 124, true]]);
    const order = fake.log.received.map((r) => r.type).filter((t) => t === 'response.cancel' || t === 'conversation.item.truncate');
    assert.deepEqual(order, ['response.cancel', 'conversation.item.truncate']);
    assert.equal(events.audioOf(id).length, deliveredAtInterrupt, 'no audio after interrupt');
    assert.ok(session.stats.droppedDeltas >= 3, `dropped ${session.stats.droppedDeltas}`);
    assert.deepEqual(events.of('responseDone')[0], {
      kind: 'responseDone', responseId: id, status: 'cancelled',
      usage: { inputTokens: FAKE_RESPONSE_USAGE.input_tokens, outputTokens: FAKE_RESPONSE_USAGE.output_tokens },
    });
    assert.equal(events.of('sentenceEnd').length, 0, 'an interrupted response reports no sentence end');
    assert.equal(events.of('error').length, 0);
  });

  test('interrupt after the response is done truncates but never cancels', async () => {
    const { fake, session, events } = await connected({ answerMs: 500, speedFactor: 20 });
    const id = fake.respond()!;
    await events.waitFor(() => events.of('responseDone').length === 1, 'response.done');
    session.interrupt({ itemId: events.audioOf(id)[0]!.itemId, audioEndMs: 200 });
    await fake.waitFor(() => fake.log.truncates.length === 1, 'truncate');
    assert.equal(fake.log.cancels.length, 0);
    assert.equal(fake.log.errorsSent.length, 0, 'no response_cancel_not_active');
    assert.equal(session.stats.responseState, 'idle');
  });

  test('interrupt with nothing active and nothing heard sends nothing at all', async () => {
    const { fake, session } = await connected();
    session.interrupt(undefined);
    session.appendAudio(silenceBytes('pcmu', 20), 20);
    // The append is behind anything interrupt() might have sent on the same socket.
    await fake.waitFor(() => fake.log.appendedMs === 20, 'the marker append');
    assert.deepEqual(fake.log.received.map((r) => r.type), ['session.update', 'input_audio_buffer.append']);
  });

  test('a pending truncate holds the next answer: auto-create off at the barge-in, one response.create after the truncate', async () => {
    const { fake, session, events } = await connected({ answerMs: 20_000, speedFactor: 5 });
    const id = fake.respond()!;
    await events.waitFor(() => events.audioOf(id).length >= 2, 'two deltas');
    const itemId = events.audioOf(id)[0]!.itemId;
    session.interrupt(HEARD_PENDING);
    await events.waitFor(() => events.of('responseDone').length === 1, 'the cancelled response.done');
    // The caller's turn ends while the truncate waits for the caller's confirmation of the clear.
    speak(session, 400, 700);
    await events.waitFor(() => events.of('speechStopped').length === 1, 'the committed turn');
    session.appendAudio(silenceBytes('pcmu', 20), 20);
    await fake.waitFor(() => fake.log.appendedMs >= 1_120, 'a later append');
    assert.equal(fake.received.filter((r) => r.type === 'response.create').length, 0, 'no answer before the truncate');
    assert.equal(fake.log.responses.length, 1, 'the server made no answer of its own');
    const generatedMs = events.audioOf(id).reduce((sum, chunk) => sum + chunk.durationMs, 0);
    const heardMs = Math.floor(generatedMs / 2);
    session.heard({ itemId, audioEndMs: heardMs });
    await events.waitFor(() => events.of('responseStarted').length === 2, 'the next answer');
    const order = fake.log.received.map((r) => r.type).filter((t) => t !== 'input_audio_buffer.append');
    assert.deepEqual(order, ['session.update', 'response.cancel', 'session.update', 'conversation.item.truncate', 'session.update', 'response.create']);
    const turnDetection = { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, interrupt_response: true };
    assert.deepEqual(fake.log.sessionUpdates.slice(1), [
      { type: 'realtime', audio: { input: { turn_detection: { ...turnDetection, create_response: false } } } },
      { type: 'realtime', audio: { input: { turn_detection: { ...turnDetection, create_response: true } } } },
    ]);
    assert.deepEqual(fake.log.truncates.map((t) => [t.itemId, t.audioEndMs, t.ok]), [[itemId, heardMs, true]]);
    assert.equal(fake.log.errorsSent.length, 0);
    // Auto-create is back: the next turn is the server's to answer.
    await events.waitFor(() => events.of('responseDone').length === 2, 'the next answer done');
    speak(session, 400, 700);
    await events.waitFor(() => events.of('responseDone').length === 3, 'a later answer');
    assert.equal(fake.received.filter((r) => r.type === 'response.create').length, 1);
    assert.equal(fake.log.responses.length, 3);
  });

  test('no turn committed while the truncate was pending: auto-create restored, no response.create', async () => {
    const { fake, session, events } = await connected({ answerMs: 20_000, speedFactor: 5 });
    const id = fake.respond()!;
    await events.waitFor(() => events.audioOf(id).length >= 1, 'a delta');
    session.interrupt(HEARD_PENDING);
    await events.waitFor(() => events.of('responseDone').length === 1, 'the cancelled response.done');
    // As at a deadline with no item known: nothing to truncate, but the hold ends all the same.
    session.heard(undefined);
    await fake.waitFor(() => fake.log.sessionUpdates.length === 3, 'the restoring update');
    speak(session, 400, 700);
    await events.waitFor(() => events.of('responseStarted').length === 2, 'the server-made answer');
    assert.deepEqual(fake.log.received.map((r) => r.type).filter((t) => t !== 'input_audio_buffer.append'), ['session.update', 'response.cancel', 'session.update', 'session.update']);
  });

  test('a turn the server committed before the hold took effect is answered once, by the server', async () => {
    const { fake, session, events } = await connected({ answerMs: 300, speedFactor: 20 });
    // The commit is behind these appends, and the hold's session.update behind the commit.
    speak(session, 400, 700);
    session.interrupt(HEARD_PENDING);
    await events.waitFor(() => events.of('responseStarted').length === 1, 'the server-made answer');
    session.heard(undefined);
    await fake.waitFor(() => fake.log.sessionUpdates.length === 3, 'the restoring update');
    await events.waitFor(() => events.of('responseDone').length === 1, 'its response.done');
    assert.equal(fake.received.filter((r) => r.type === 'response.create').length, 0);
    assert.equal(fake.log.responses.length, 1);
  });

  test('a normal turn is answered by the server VAD: no response.create, no extra round trip', async () => {
    const { fake, session, events } = await connected({ answerMs: 300, speedFactor: 20 });
    speak(session, 400, 700);
    await events.waitFor(() => events.of('responseDone').length === 1, 'the answer');
    speak(session, 400, 700);
    await events.waitFor(() => events.of('responseDone').length === 2, 'the second answer');
    assert.deepEqual(fake.log.received.map((r) => r.type).filter((t) => t !== 'input_audio_buffer.append'), ['session.update']);
    assert.equal(fake.log.responses.length, 2);
  });

  test('a cancel racing the server VAD auto-cancel is answered not_active and not surfaced as an error', async () => {
    const { fake, session, events } = await connected({ answerMs: 20_000, speedFactor: 5 });
    // Like a session: barge-in on speechStarted. The fake cancels (turn_detected) right after it.
    events.onSpeechStarted = () => session.interrupt(undefined);
    const id = fake.respond()!;
    await events.waitFor(() => events.audioOf(id).length >= 1, 'a delta');
    fake.emitSpeechStarted();
    await fake.waitFor(() => fake.log.errorsSent.length === 1, 'the not-active answer');
    assert.equal(fake.log.errorsSent[0]!.code, 'response_cancel_not_active');
    assert.equal(fake.log.cancels[0]!.active, false);
    session.appendAudio(silenceBytes('pcmu', 20), 20);
    await fake.waitFor(() => fake.log.appendedMs === 20, 'a later append');
    await events.waitFor(() => events.of('responseDone').length === 1, 'response.done');
    assert.equal(events.of('responseDone')[0]!.status, 'cancelled');
    assert.equal(events.of('error').length, 0);
  });
});

describe('OpenAIRealtimeSession: errors and bad input', () => {
  test('an error event is surfaced as VW_ERR_MODEL_EVENT with the model code; the session lives on', async () => {
    const { fake, events } = await connected({ answerMs: 200, speedFactor: 20 });
    fake.sendError({ type: 'server_error', code: 'rate_limit_exceeded', message: 'slow down' });
    await events.waitFor(() => events.of('error').length === 1, 'error');
    const error = events.of('error')[0]!.error;
    assert.equal(error.code, 'VW_ERR_MODEL_EVENT');
    assert.match(error.message, /rate_limit_exceeded/);
    assert.deepEqual(error.cause, { type: 'server_error', code: 'rate_limit_exceeded', param: null, eventId: null });
    fake.respond();
    await events.waitFor(() => events.of('responseDone').length === 1, 'a response after the error');
  });

  test('malformed frames are coded errors (the session lives on); unknown types are only counted', async () => {
    const { fake, session, events } = await connected();
    fake.sendRaw('{"type": "response.output_audio.delta", ');
    fake.sendRaw('{"type": "response.output_audio.delta", "response_id": "r"}');
    fake.sendRaw('{"type": "response.brand_new_event"}');
    fake.sendRaw('[1,2,3]');
    fake.sendError({ code: 'marker', message: 'after the junk' });
    await events.waitFor(() => events.of('error').length === 4, 'three malformed-frame errors and the marker error');
    assert.deepEqual(events.of('error').map((e) => e.error.code), ['VW_ERR_BAD_JSON', 'VW_ERR_BAD_FIELD', 'VW_ERR_BAD_FIELD', 'VW_ERR_MODEL_EVENT']);
    assert.equal(session.stats.malformedEvents, 3);
    assert.equal(session.stats.unknownEvents, 1);
    assert.equal(session.stats.state, 'open');
  });
});

describe('OpenAIRealtimeSession: slow model socket', () => {
  test('a stalled model socket bounds caller audio, dropping the OLDEST, with a counter', async () => {
    const { fake, session } = await connected({}, { inputQueueMs: 200, maxBufferedBytes: 16 * 1024, heartbeatMs: 0 });
    fake.stall();
    // Each frame carries its number in quiet μ-law nibbles, so the fake's record shows what arrived.
    const frameOf = (n: number): Uint8Array => {
      const frame = new Uint8Array(160).fill(0xff);
      frame[0] = 0xf0 | (n & 0xf);
      frame[1] = 0xf0 | ((n >> 4) & 0xf);
      frame[2] = 0xf0 | ((n >> 8) & 0xf);
      frame[3] = 0xf0 | ((n >> 12) & 0xf);
      return frame;
    };
    let pushed = 0;
    // Push until the kernel and ws buffers are full and drops begin (bounded, in batches so the
    // event loop can flush ws's writes).
    while (session.stats.inputDroppedMs === 0 && pushed < 60_000) {
      for (let i = 0; i < 500; i++) session.appendAudio(frameOf(pushed++), 20);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // A few seconds more while stalled: the queue must stay within its bound.
    for (let i = 0; i < 200; i++) session.appendAudio(frameOf(pushed++), 20);
    const stats = session.stats;
    assert.ok(stats.inputDroppedMs >= 4000 - 200, `dropped ${stats.inputDroppedMs} ms`);
    assert.ok(stats.inputQueuedMs <= 200);
    assert.ok(stats.bufferedAmount > 16 * 1024);
    assert.equal(stats.inputSentMs + stats.inputDroppedMs + stats.inputQueuedMs, pushed * 20);
    fake.unstall();
    await fake.waitFor(() => fake.log.appendedMs === session.stats.inputSentMs && session.stats.inputQueuedMs === 0, 'all sent audio at the fake', 20_000);
    // The newest frames arrived, in order, and the very last one is the last pushed.
    const received = fake.log.appendedBytes();
    const numbers: number[] = [];
    for (let at = 0; at + 160 <= received.length; at += 160) {
      numbers.push((received[at]! & 0xf) | ((received[at + 1]! & 0xf) << 4) | ((received[at + 2]! & 0xf) << 8) | ((received[at + 3]! & 0xf) << 12));
    }
    assert.equal(numbers.at(-1), (pushed - 1) & 0xffff);
    const gaps = numbers.slice(1).filter((n, i) => n !== ((numbers[i]! + 1) & 0xffff));
    assert.ok(gaps.length >= 1, 'the oldest queued audio was dropped: a gap in the sequence');
  });
});

describe('OpenAIRealtimeSession: reconnect and close', () => {
  test('a drop mid-response fails that response, reconnects once and resends session.update', async () => {
    const { fake, session, events } = await connected({ answerMs: 5000, speedFactor: 10, dropAfterDeltas: 2 });
    const id = fake.respond()!;
    await events.waitFor(() => events.of('responseDone').length === 1, 'the lost response ends');
    assert.deepEqual(events.of('responseDone')[0], { kind: 'responseDone', responseId: id, status: 'failed' });
    session.appendAudio(silenceBytes('pcmu', 20), 20); // during the gap: queued
    await fake.waitFor(() => fake.log.sessionUpdates.length === 2 && fake.log.appendedMs === 20, 'reconnected, audio delivered', 5000);
    assert.equal(session.stats.reconnects, 1);
    assert.equal(session.stats.state, 'open');
    assert.equal(fake.log.connections.length, 2);
    const again = fake.respond({ ms: 300 })!;
    await events.waitFor(() => events.of('responseDone').some((d) => d.responseId === again), 'a response on the new socket');
    assert.equal(events.of('closed').length, 0);
  });

  test('when the server is gone the reconnect fails and closed() carries VW_ERR_MODEL_UNAVAILABLE', async () => {
    const { fake, session, events } = await connected();
    await fake.close();
    await events.waitFor(() => events.of('closed').length === 1, 'closed');
    const closed = events.of('closed')[0]!;
    assert.ok(isVoicewireError(closed.error, 'VW_ERR_MODEL_UNAVAILABLE'));
    assert.equal(closed.error.closeCode, 4010);
    assert.equal(session.stats.state, 'closed');
  });

  test('a refused reconnect is retried `attempts` times, then closed', async () => {
    const { fake, events } = await connected({}, { reconnect: { attempts: 2, backoffMs: 10 } });
    fake.refuseConnections(503);
    fake.drop();
    await events.waitFor(() => events.of('closed').length === 1, 'closed');
    assert.match(events.of('closed')[0]!.reason, /503/);
    assert.equal(fake.log.connections.length, 1, 'refused upgrades never became connections');
  });

  test('missed pongs terminate the socket and take the reconnect path', async () => {
    const { fake, session } = await connected({ answerPings: false }, { heartbeatMs: 50, missedPongsLimit: 2 });
    await fake.waitFor(() => fake.log.connections.length >= 2, 'a second connection after missed pongs');
    assert.equal(fake.log.closes[0]!.code, 1006, 'terminated, not closed politely');
    await fake.waitFor(() => fake.log.sessionUpdates.length >= 2, 'session re-configured');
    assert.ok(session.stats.reconnects >= 1 || session.stats.state === 'reconnecting');
  });

  test('close() ends the socket with 1000 and never reconnects', async () => {
    const { fake, session, events } = await connected();
    session.close();
    await fake.waitFor(() => fake.log.closes.length === 1, 'the server sees the close');
    assert.equal(fake.log.closes[0]!.code, 1000);
    session.appendAudio(silenceBytes('pcmu', 20), 20);
    session.interrupt({ itemId: 'x', audioEndMs: 1 });
    assert.equal(session.stats.state, 'closed');
    assert.equal(fake.log.connections.length, 1);
    assert.equal(events.of('closed').length, 0, 'close() by the session is not reported back');
  });
});
