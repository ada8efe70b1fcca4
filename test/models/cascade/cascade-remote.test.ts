/**
 * CascadeSession with remote OpenAI-compatible stages (test/fakes/openai-compatible.ts): each
 * stage's bound holds when the stage after it is slow, a barge-in cancels the in-flight requests
 * (the server sees the connection close), the history sent to the LLM holds only what the caller
 * heard, and a failing remote stage ends in a spoken apology plus a coded error naming the stage
 * while the call goes on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import type { CascadeSession } from '../../../src/models/cascade/cascade-session.js';
import { createCascadeFactory, type CascadeOptions } from '../../../src/models/cascade/factory.js';
import { APOLOGIES } from '../../../src/models/cascade/response-run.js';
import { silentLogger } from '../../../src/server/logger.js';
import { FakeOpenAiServer } from '../../fakes/openai-compatible.js';
import { FakeTts, FakeVad, Harness, sampler, speak, startSpeaking, type HarnessOptions } from './harness.js';

const format = TWILIO_FORMAT;
let server: FakeOpenAiServer;

before(async () => {
  server = await FakeOpenAiServer.start();
});
after(async () => {
  await server.close();
});

interface Setup {
  readonly cascade: CascadeSession;
  readonly harness: Harness;
  readonly tts: FakeTts;
  close(): void;
}

function setup(options: Partial<CascadeOptions> = {}, harnessOptions: HarnessOptions = {}, tts = new FakeTts(24000, 5)): Setup {
  const factory = createCascadeFactory({
    stageTimeoutMs: 2000,
    logger: silentLogger(),
    tts,
    llmUrl: server.url,
    llmModel: 'fake-llm',
    greet: false,
    createVad: ({ sampleRate }) => new FakeVad(sampleRate),
    ...options,
  });
  const cascade = factory({ callerFormat: format, callId: 'remote' }) as CascadeSession;
  const harness = new Harness({ speed: 20, ...harnessOptions });
  harness.attachTo(cascade);
  return {
    cascade,
    harness,
    tts,
    close: () => {
      cascade.close();
      harness.stop();
    },
  };
}

async function nthResponse(harness: Harness, n: number): Promise<string> {
  await harness.waitFor(() => harness.responses().length >= n, 10_000, `response ${n}`);
  return harness.responses()[n - 1]!;
}

async function finished(harness: Harness, responseId: string, timeoutMs = 10_000): Promise<string> {
  await harness.waitFor(() => harness.done(responseId) !== undefined, timeoutMs, `${responseId} done`);
  return harness.done(responseId)!.status;
}

function sentences(count: number, wordsEach = 8): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const words = Array.from({ length: wordsEach }, (_, w) => `word${i}x${w}`);
    out.push(`Sentence ${i} has ${words.join(' ')}.`);
  }
  return out.join(' ');
}

function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

interface ChatRequest {
  messages: Array<{ role: string; content: string }>;
  stream: boolean;
  model: string;
}

describe('remote LLM', () => {
  test('streams the answer from /v1/chat/completions and speaks every sentence of it', async () => {
    server.chat = { text: 'Hello from the model. It streams nicely. Goodbye for now!', paceMs: 2 };
    const s = setup();
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 500);
      const id = await nthResponse(s.harness, 1);
      assert.equal(await finished(s.harness, id), 'completed');
      assert.equal(normalise(s.harness.said(id)), server.chat.text);
      const request = server.requestsTo('/v1/chat/completions').at(-1)!.json as ChatRequest;
      assert.equal(request.stream, true);
      assert.equal(request.model, 'fake-llm');
      assert.equal(request.messages[0]?.role, 'system');
      assert.match(request.messages.at(-1)?.content ?? '', /spoke for 0\.5 seconds/);
    } finally {
      s.close();
    }
  });

  test('1000 tokens at once with a TTS taking 2 s per sentence: the sentence queue stays at its bound', async () => {
    const text = sentences(60, 15); // ≈ 1000 tokens
    server.chat = { text, paceMs: 0 };
    const tts = new FakeTts(24000, 1, { delayMs: 2000 });
    const s = setup({}, {}, tts);
    const depths = sampler(() => s.cascade.depths().sentences);
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      // Two sentences synthesised (4 s), while reasoning waits on the full queue.
      await s.harness.waitFor(() => tts.calls.length >= 3, 10_000, 'third synthesis');
      depths.stop();
      const max = Math.max(...depths.samples);
      assert.equal(max, 4, `sentence queue depth reached ${max}`);
      startSpeaking(s.cascade, format);
      assert.equal(await finished(s.harness, id, 2000), 'cancelled');
      assert.equal(tts.calls.at(-1)?.aborted, true, 'the synthesis in flight was aborted');
    } finally {
      depths.stop();
      s.close();
    }
  });

  test('1000 tokens at once with a quick TTS: nothing is lost, every sentence is spoken in order', async () => {
    const text = sentences(60, 15);
    server.chat = { text, paceMs: 0 };
    const s = setup({}, { speed: 200, bufferMs: 2000 }, new FakeTts(24000, 1));
    const depths = sampler(() => s.cascade.depths());
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      assert.equal(await finished(s.harness, id, 20_000), 'completed');
      depths.stop();
      assert.equal(normalise(s.harness.said(id)), normalise(text));
      assert.ok(depths.samples.every((d) => d.sentences <= 4 && d.speechMs <= 1000));
    } finally {
      depths.stop();
      s.close();
    }
  });

  test('barge-in cancels the streaming LLM request: the server sees the connection close', async () => {
    server.chat = { text: sentences(40), paceMs: 20 };
    const s = setup();
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      await s.harness.waitFor(() => s.harness.log.some((e) => e.type === 'audio'), 10_000, 'first audio');
      const request = server.requestsTo('/v1/chat/completions').at(-1)!;
      assert.equal(request.ended, false, 'the stream is still running');
      startSpeaking(s.cascade, format);
      assert.equal(await finished(s.harness, id, 2000), 'cancelled');
      await server.waitFor(() => request.aborted, 2000, 'LLM request aborted');
    } finally {
      s.close();
    }
  });

  test('after a barge-in the next request carries only what the caller heard', async () => {
    const first = 'The first sentence is short. The second one is a little longer than that. The third never gets heard.';
    server.chat = { text: first, paceMs: 1 };
    // Slow playback so the caller is still in sentence 1 when barging in.
    const s = setup({}, { speed: 1, bufferMs: 200 }, new FakeTts(24000, 10));
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      await s.harness.waitFor(() => s.harness.log.some((e) => e.type === 'sentencePlayed' && e.sentenceId === 0), 10_000, 'sentence 0 played');
      startSpeaking(s.cascade, format);
      assert.equal(await finished(s.harness, id, 2000), 'cancelled');
      const interrupt = s.harness.log.find((e) => e.type === 'interrupt');
      assert.ok(interrupt?.type === 'interrupt' && interrupt.itemId === id && (interrupt.audioEndMs ?? 0) > 0);

      server.chat = { text: 'Sure.', paceMs: 1 };
      speak(s.cascade, format, 0, 200); // the barge-in utterance ends
      const next = await nthResponse(s.harness, 2);
      await finished(s.harness, next);
      const request = server.requestsTo('/v1/chat/completions').at(-1)!.json as ChatRequest;
      const assistant = request.messages.filter((m) => m.role === 'assistant');
      assert.equal(assistant.length, 1);
      const heard = assistant[0]!.content;
      assert.ok(first.startsWith(heard), `"${heard}" is a prefix of the answer`);
      assert.ok(heard.startsWith('The first sentence is short.'), 'the played sentence is in it');
      assert.ok(!heard.includes('third'), 'the unheard sentence is not');
    } finally {
      s.close();
    }
  });
});

describe('remote STT and TTS', () => {
  test('the utterance is posted as a WAV file and its transcript reaches the LLM', async () => {
    server.stt = { text: 'what time is it' };
    server.chat = { text: 'It is time to test.', paceMs: 1 };
    const s = setup({ sttUrl: server.url, sttModel: 'fake-whisper' });
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 700);
      const id = await nthResponse(s.harness, 1);
      assert.equal(await finished(s.harness, id), 'completed');
      const stt = server.requestsTo('/v1/audio/transcriptions').at(-1)!;
      const fields = Object.fromEntries(stt.parts.map((p) => [p.name, p]));
      assert.equal(fields.model?.data.toString(), 'fake-whisper');
      assert.equal(fields.response_format?.data.toString(), 'json');
      assert.equal(fields.file?.data.subarray(0, 4).toString(), 'RIFF');
      assert.equal(fields.file?.data.readUInt32LE(24), 16000, 'the utterance is sent at 16 kHz');
      const chat = server.requestsTo('/v1/chat/completions').at(-1)!.json as ChatRequest;
      assert.equal(chat.messages.at(-1)?.content, 'what time is it');
    } finally {
      s.close();
    }
  });

  test('barge-in cancels the STT request in flight', async () => {
    server.stt = { text: 'slow', delayMs: 5000 };
    const s = setup({ sttUrl: server.url });
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 400);
      const id = await nthResponse(s.harness, 1);
      await server.waitFor(() => server.requestsTo('/v1/audio/transcriptions').some((r) => !r.ended), 2000, 'STT request');
      const request = server.requestsTo('/v1/audio/transcriptions').at(-1)!;
      startSpeaking(s.cascade, format);
      assert.equal(await finished(s.harness, id, 2000), 'cancelled');
      await server.waitFor(() => request.aborted, 2000, 'STT request aborted');
    } finally {
      s.close();
    }
  });

  test('a remote TTS streams PCM; barge-in cancels the TTS request in flight', async () => {
    server.chat = { text: 'One sentence here. Another sentence follows. And a third one.', paceMs: 1 };
    // The third sentence's request hangs, to catch it in flight.
    server.tts = { msPerChar: 20, failure: 'hang', failOnInput: 'third' };
    const s = setup({ ttsUrl: server.url, ttsModel: 'fake-tts', ttsVoice: 'fake' }, { speed: 1, bufferMs: 200 });
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      await server.waitFor(() => server.requestsTo('/v1/audio/speech').length === 3, 10_000, 'third TTS request');
      const first = server.requestsTo('/v1/audio/speech')[0]!.json as { input: string; response_format: string; voice: string };
      assert.deepEqual([first.input, first.response_format, first.voice], ['One sentence here.', 'pcm', 'fake']);
      assert.ok(s.harness.log.some((e) => e.type === 'audio' && e.sentenceId === 1), 'PCM from the server reached the caller');
      startSpeaking(s.cascade, format);
      assert.equal(await finished(s.harness, id, 2000), 'cancelled');
      await server.waitFor(() => server.requestsTo('/v1/audio/speech')[2]!.aborted, 2000, 'TTS request aborted');
    } finally {
      server.tts = {};
      s.close();
    }
  });
});

describe('remote stage failures', () => {
  const cases: Array<{ name: string; stage: string; arrange: () => Partial<CascadeOptions> }> = [
    { name: 'LLM answers 500', stage: 'llm', arrange: () => ((server.chat = { failure: 'status500' }), {}) },
    { name: 'LLM stream is malformed', stage: 'llm', arrange: () => ((server.chat = { text: 'Some words', failure: 'malformed' }), {}) },
    { name: 'LLM stream ends before [DONE]', stage: 'llm', arrange: () => ((server.chat = { text: 'Some words', failure: 'truncated', tokensBeforeFailure: 1 }), {}) },
    { name: 'LLM never answers (timeout)', stage: 'llm', arrange: () => ((server.chat = { failure: 'hang' }), { stageTimeoutMs: 300 }) },
    { name: 'STT never answers (timeout)', stage: 'stt', arrange: () => ((server.stt = { text: 'x', failure: 'hang' }), { sttUrl: server.url, stageTimeoutMs: 300 }) },
    { name: 'STT answers 500', stage: 'stt', arrange: () => ((server.stt = { text: 'x', failure: 'status500' }), { sttUrl: server.url }) },
    {
      name: 'TTS answers 500',
      stage: 'tts',
      arrange: () => ((server.chat = { text: 'Fine words.', paceMs: 1 }), (server.tts = { failure: 'status500' }), { ttsUrl: server.url }),
    },
  ];
  for (const c of cases) {
    test(`${c.name}: the caller hears an apology, the error names the stage, the call goes on`, async () => {
      server.stt = { text: 'hello' };
      const options = c.arrange();
      const s = setup(options);
      try {
        await s.cascade.connect();
        speak(s.cascade, format, 300);
        const id = await nthResponse(s.harness, 1);
        assert.equal(await finished(s.harness, id), 'failed');
        const error = s.harness.log.find((e) => e.type === 'error');
        assert.ok(error?.type === 'error');
        assert.equal(error.code, 'VW_ERR_STAGE_FAILED');
        assert.equal(error.stage, c.stage);
        const apology = APOLOGIES[c.stage as keyof typeof APOLOGIES];
        assert.ok(normalise(s.harness.said(id)).endsWith(apology), `apology spoken: ${s.harness.said(id)}`);
        assert.ok(s.tts.calls.some((call) => call.text === apology && call.completed), 'by the injected (offline) TTS');
        assert.ok(s.harness.log.some((e) => e.type === 'audio' && e.responseId === id));

        // The call goes on: with the stage healthy again the next turn is answered.
        server.chat = { text: 'All good again.', paceMs: 1 };
        server.stt = { text: 'hello again' };
        server.tts = {};
        speak(s.cascade, format, 300);
        const next = await nthResponse(s.harness, 2);
        assert.equal(await finished(s.harness, next), 'completed');
        assert.equal(normalise(s.harness.said(next)), 'All good again.');
      } finally {
        s.close();
      }
    });
  }

  test('a TTS failing in the middle of an answer: what was sent plays, the rest is dropped, then the apology', async () => {
    server.chat = { text: 'First one. Second one. The third fails. Fourth is never spoken. Nor the fifth.', paceMs: 1 };
    server.tts = { failure: 'status500', failOnInput: 'third' };
    const s = setup({ ttsUrl: server.url });
    try {
      await s.cascade.connect();
      speak(s.cascade, format, 300);
      const id = await nthResponse(s.harness, 1);
      assert.equal(await finished(s.harness, id), 'failed');
      const error = s.harness.log.find((e) => e.type === 'error');
      assert.ok(error?.type === 'error' && error.stage === 'tts');
      assert.equal(normalise(s.harness.said(id)), `First one. Second one. ${APOLOGIES.tts}`);
      const audioIds = [...new Set(s.harness.log.flatMap((e) => (e.type === 'audio' && e.responseId === id ? [e.sentenceId] : [])))];
      assert.deepEqual(audioIds, [0, 1, 3], 'sentence 2 has no audio; the apology follows it as sentence 3');
      const ends = s.harness.log.flatMap((e) => (e.type === 'sentenceEnd' && e.responseId === id ? [e.sentenceId] : []));
      assert.deepEqual(ends, [0, 1, 2, 3]);
      assert.ok(!server.requestsTo('/v1/audio/speech').some((r) => (r.json as { input: string }).input.startsWith('Fourth')));
    } finally {
      server.tts = {};
      s.close();
    }
  });
});
