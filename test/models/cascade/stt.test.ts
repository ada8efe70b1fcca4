/** The OpenAI-compatible STT client: multipart WAV upload, JSON answer, stage errors, aborts. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isStageError } from '../../../src/models/cascade/stage-error.js';
import { OpenAiStt, parseTranscription, type Utterance } from '../../../src/models/cascade/stt.js';
import { endpointUrl } from '../../../src/models/cascade/http.js';
import { FakeOpenAiServer } from '../../fakes/openai-compatible.js';

let server: FakeOpenAiServer;
before(async () => {
  server = await FakeOpenAiServer.start();
});
after(async () => {
  await server.close();
});

const utterance: Utterance = {
  samples: new Int16Array([0, 1000, -1000, 0]),
  sampleRate: 16000,
  durationMs: 0.25,
  levelDbfs: -30,
  truncated: false,
};

describe('OpenAiStt', () => {
  test('posts file (WAV), model and response_format=json as multipart/form-data and returns the text', async () => {
    server.stt = { text: '  Hello, world.  ' };
    const stt = new OpenAiStt({ url: server.url, model: 'whisper-x', apiKey: 'k', timeoutMs: 2000 });
    assert.equal(await stt.transcribe(utterance, new AbortController().signal), 'Hello, world.');
    const request = server.requestsTo('/v1/audio/transcriptions').at(-1)!;
    assert.match(String(request.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.equal(request.headers.authorization, 'Bearer k');
    const file = request.parts.find((p) => p.name === 'file')!;
    assert.equal(file.filename, 'utterance.wav');
    assert.equal(file.contentType, 'audio/wav');
    assert.equal(file.data.length, 44 + 8);
    assert.equal(file.data.readInt16LE(46), 1000);
    assert.equal(request.parts.find((p) => p.name === 'model')?.data.toString(), 'whisper-x');
  });

  test('500, malformed JSON and a silent server are StageError("stt")', async () => {
    const stt = new OpenAiStt({ url: server.url, model: 'm', timeoutMs: 200 });
    for (const failure of ['status500', 'malformed', 'hang'] as const) {
      server.stt = { text: '', failure };
      await assert.rejects(stt.transcribe(utterance, new AbortController().signal), (e) => isStageError(e) && e.stage === 'stt', failure);
    }
    server.stt = { text: 'ok' };
  });

  test('parseTranscription wants a {text} object', () => {
    assert.equal(parseTranscription('{"text":"a"}'), 'a');
    assert.throws(() => parseTranscription('{"txt":"a"}'), (e) => isStageError(e));
    assert.throws(() => parseTranscription('null'), (e) => isStageError(e));
  });

  test('endpointUrl accepts an origin, a /v1 base or the full endpoint', () => {
    const path = '/v1/audio/transcriptions';
    assert.equal(endpointUrl('http://h:1', path), 'http://h:1/v1/audio/transcriptions');
    assert.equal(endpointUrl('http://h:1/v1/', path), 'http://h:1/v1/audio/transcriptions');
    assert.equal(endpointUrl('http://h:1/v1/audio/transcriptions', path), 'http://h:1/v1/audio/transcriptions');
  });
});
