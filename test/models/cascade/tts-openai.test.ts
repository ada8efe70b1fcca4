/**
 * The OpenAI-compatible TTS client and its byte assembly: PCM16 split anywhere (even inside a
 * sample) comes out the same; WAV headers (unknown length, extra chunks) are parsed; failures are
 * StageError('tts').
 */
import { concat } from '../../helpers/speech-corpus.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import { isStageError } from '../../../src/models/cascade/stage-error.js';
import { OpenAiTts, Pcm16Assembler } from '../../../src/models/cascade/tts-openai.js';
import { encodeWav, parseWavHeader } from '../../../src/models/cascade/wav.js';
import { FakeOpenAiServer, sinePcm24k, wavHeader24k } from '../../fakes/openai-compatible.js';

let server: FakeOpenAiServer;
before(async () => {
  server = await FakeOpenAiServer.start();
});
after(async () => {
  await server.close();
});

async function collect(tts: OpenAiTts, text: string, signal?: AbortSignal): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text, { signal })) parts.push(chunk.slice());
  return concat(parts);
}

describe('WAV', () => {
  test('encodeWav writes a header parseWavHeader reads back', () => {
    const wav = encodeWav(new Int16Array([1, -2, 3]), 16000);
    assert.deepEqual(parseWavHeader(wav), { sampleRate: 16000, channels: 1, bitsPerSample: 16, dataOffset: 44, dataBytes: 6 });
    assert.equal(new DataView(wav.buffer).getInt16(46, true), -2);
  });

  test('an incomplete header asks for more; a non-WAV or non-PCM16 file is VW_ERR_MALFORMED_STREAM', () => {
    assert.equal(parseWavHeader(encodeWav(new Int16Array(4), 8000).subarray(0, 30)), undefined);
    assert.throws(() => parseWavHeader(new TextEncoder().encode('<html>not a wav</html>')), (e) => isVoicewireError(e, 'VW_ERR_MALFORMED_STREAM'));
    const eightBit = encodeWav(new Int16Array(4), 8000);
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    assert.throws(() => parseWavHeader(eightBit), (e) => isVoicewireError(e, 'VW_ERR_MALFORMED_STREAM'));
  });
});

describe('Pcm16Assembler', () => {
  test('raw PCM split at any byte gives the same samples (property)', () => {
    const bytes = new Uint8Array(sinePcm24k(30));
    const expected = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), (cuts) => {
        const assembler = new Pcm16Assembler('raw', 24000);
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const out: number[] = [];
        for (let i = 1; i < points.length; i++) out.push(...assembler.push(bytes.subarray(points[i - 1], points[i])));
        assembler.end();
        assert.deepEqual(out, [...expected]);
      }),
      { numRuns: 50 },
    );
  });

  test('WAV with an unknown length and a LIST chunk before data, split inside the header', () => {
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
    const header = wavHeader24k(0xffffffff);
    const wav = Buffer.concat([header.subarray(0, 36), list, header.subarray(36), Buffer.from([1, 0, 2, 0, 0xff, 0xff])]);
    const assembler = new Pcm16Assembler('wav', 24000);
    const out = [...assembler.push(wav.subarray(0, 20)), ...assembler.push(wav.subarray(20, 53)), ...assembler.push(wav.subarray(53))];
    assert.deepEqual(out, [1, 2, -1]);
  });

  test('a WAV at another rate than announced is a tts stage error', () => {
    const wav = encodeWav(new Int16Array(2), 16000);
    assert.throws(() => new Pcm16Assembler('wav', 24000).push(wav), (e) => isStageError(e) && e.stage === 'tts');
  });
});

describe('OpenAiTts against the fake server', () => {
  test('posts {model, voice, input, response_format} and streams PCM16 24 kHz', async () => {
    server.tts = { msPerChar: 10, chunkBytes: 333 };
    const tts = new OpenAiTts({ url: server.url, model: 'tts-x', voice: 'v', apiKey: 'k', timeoutMs: 2000 });
    const pcm = await collect(tts, 'Hello world.');
    assert.equal(pcm.length, 24000 * 0.12);
    const request = server.requestsTo('/v1/audio/speech').at(-1)!;
    assert.deepEqual(request.json, { model: 'tts-x', voice: 'v', input: 'Hello world.', response_format: 'pcm' });
    assert.equal(request.headers.authorization, 'Bearer k');
  });

  test('wav format: the header is skipped', async () => {
    server.tts = { msPerChar: 10, chunkBytes: 7 };
    const tts = new OpenAiTts({ url: `${server.url}/v1`, model: 'm', voice: 'v', timeoutMs: 2000, format: 'wav' });
    const pcm = await collect(tts, 'Hi.');
    assert.equal(pcm.length, 24000 * 0.03);
  });

  test('a 500 or a silent server is a StageError("tts")', async () => {
    server.tts = { failure: 'status500' };
    const tts = new OpenAiTts({ url: server.url, model: 'm', voice: 'v', timeoutMs: 200 });
    await assert.rejects(collect(tts, 'x'), (e) => isStageError(e) && e.stage === 'tts' && /HTTP 500/.test(e.message));
    server.tts = { failure: 'hang' };
    await assert.rejects(collect(tts, 'x'), (e) => isStageError(e) && e.stage === 'tts');
    server.tts = {};
  });

  test('aborting the signal cancels the request and rejects with the signal reason', async () => {
    server.tts = { failure: 'hang' };
    const tts = new OpenAiTts({ url: server.url, model: 'm', voice: 'v', timeoutMs: 5000 });
    const controller = new AbortController();
    const done = collect(tts, 'never', controller.signal);
    await server.waitFor(() => server.requestsTo('/v1/audio/speech').some((r) => (r.json as { input?: string }).input === 'never'), 2000, 'request');
    controller.abort(new Error('barge-in'));
    await assert.rejects(done, /barge-in/);
    const request = server.requestsTo('/v1/audio/speech').at(-1)!;
    await server.waitFor(() => request.aborted, 2000, 'abort seen by the server');
    server.tts = {};
  });
});
