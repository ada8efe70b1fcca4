import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeBrowserClient } from '../../fakes/browser-client.js';
import { Harness, rawClient } from './harness.js';
import {
  MAX_CONTROL_BYTES,
  decodeServerMessage,
  encodeControl,
  encodeFrame,
  int16ToPcm,
  utf8Length,
  type ServerMessage,
} from '../../../src/transports/browser/codec.js';

/** `ms` of PCM16 at `rate`, samples counting up from `start` (so order can be checked). */
function pcm(ms: number, rate: number, start = 0): Uint8Array {
  const n = Math.round((ms * rate) / 1000);
  return int16ToPcm(Int16Array.from({ length: n }, (_, i) => (start + i) % 32000));
}

function hello(extra: Record<string, unknown> = {}): string {
  return encodeControl({ type: 'hello', version: 1, ...extra });
}

function parsed(message: { text?: string }): ServerMessage {
  const result = decodeServerMessage(message.text ?? '');
  assert.ok(result.ok, `not a server message: ${message.text}`);
  return result.message;
}

const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof Harness.start>): Promise<Harness> {
  const h = await Harness.start(...args);
  harnesses.push(h);
  return h;
}
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});

describe('BrowserTransport: hello and ready', () => {
  test('hello starts the session with PCM16 at the playback rate and the clamped window; ready answers', async () => {
    const h = await harness({ heartbeatMs: 7_000, parameters: { origin: 'https://app.example' }, sessionId: 'sess-1' });
    const client = await FakeBrowserClient.connect(h.url, { windowMs: 5_000, parameters: { lang: 'en', origin: 'forged' } });
    const { session, transport } = await h.connection();
    const [start] = session.of('start');
    assert.deepEqual(start?.info, {
      callId: 'sess-1',
      streamId: 'sess-1',
      parameters: { lang: 'en', origin: 'https://app.example' },
      format: { encoding: 'pcm16', sampleRate: 24000 },
      creditWindowMs: 2000,
    });
    assert.deepEqual(client.ready, {
      type: 'ready', version: 1, sessionId: 'sess-1',
      playback: { encoding: 'pcm16', sampleRate: 24000 }, mic: { encoding: 'pcm16', sampleRate: 16000 },
      epoch: 0, windowMs: 2000, heartbeatMs: 7000, maxMicFrameMs: 100,
    });
    assert.deepEqual(transport.negotiated, { playback: { encoding: 'pcm16', sampleRate: 24000 }, playbackRate: 24000, micRate: 16000, windowMs: 2000 });
    await client.close();
  });

  test('a window below 200 ms is raised to 200; a missing one gets the server default', async () => {
    const h = await harness({ defaultWindowMs: 600 });
    const small = await FakeBrowserClient.connect(h.url, { windowMs: 50, playbackRate: 16000 });
    assert.equal(small.ready.windowMs, 200);
    assert.deepEqual(small.ready.playback, { encoding: 'pcm16', sampleRate: 16000 });
    const plain = await FakeBrowserClient.connect(h.url);
    assert.equal(plain.ready.windowMs, 600);
    assert.equal((await h.connection(1)).session.of('start')[0]?.info.creditWindowMs, 600);
    await Promise.all([small.close(), plain.close()]);
  });

  test('a protocol version mismatch is answered with an error and closed with 4002', async () => {
    const h = await harness();
    const raw = await rawClient(h.url);
    raw.ws.send(hello({ version: 2 }));
    const error = parsed(await raw.next());
    assert.deepEqual(error, { type: 'error', code: 'VW_ERR_PROTOCOL_VERSION', message: 'unsupported protocol version 2', detail: 'version' });
    assert.equal((await raw.closed).code, 4002);
    const { session } = await h.connection();
    await session.until(() => session.of('closed').length > 0);
    assert.deepEqual(session.events.map((e) => e.kind), ['closed']);
    assert.equal(session.of('closed')[0]?.errorCode, 'VW_ERR_PROTOCOL_VERSION');
  });

  test('no hello within the deadline: error, close 4005', async () => {
    const h = await harness({ helloTimeoutMs: 100 });
    const raw = await rawClient(h.url);
    assert.equal((parsed(await raw.next()) as { code: string }).code, 'VW_ERR_HELLO_TIMEOUT');
    assert.equal((await raw.closed).code, 4005);
    const { session } = await h.connection();
    await session.until(() => session.of('closed').length > 0);
    assert.equal(session.of('closed')[0]?.errorCode, 'VW_ERR_HELLO_TIMEOUT');
  });

  test('ready goes out before anything a session sends from inside start', async () => {
    const h = await harness({}, 'manual');
    const raw = await rawClient(h.url);
    const { transport, session } = await h.connection();
    transport.attach({
      ...session.handlers,
      start: (info) => {
        session.handlers.start(info);
        transport.sendAudio({ epoch: 0, sentenceId: 1, bytes: pcm(20, 24000), durationMs: 20 });
        transport.endSentence(0, 1);
      },
    });
    raw.ws.send(hello());
    assert.equal(parsed(await raw.next()).type, 'ready');
    assert.ok((await raw.next()).binary !== undefined, 'then the audio frame');
    assert.deepEqual(parsed(await raw.next()), { type: 'sentence_end', epoch: 0, sentenceId: 1 });
    raw.ws.close();
  });

  test('events that arrive before attach are delivered, in order, on attach', async () => {
    const h = await harness({}, 'manual');
    const raw = await rawClient(h.url);
    raw.ws.send(hello());
    raw.ws.send(encodeControl({ type: 'ping', id: 1, t: 5 }));
    const { transport, session } = await h.connection();
    // Reading is paused until attach: nothing is answered yet.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(raw.received.length, 0);
    transport.attach(session.handlers);
    assert.equal(parsed(await raw.next()).type, 'ready');
    assert.deepEqual(parsed(await raw.next()), { type: 'pong', id: 1, t: 5 });
    assert.deepEqual(session.events.map((e) => e.kind), ['start']);
    raw.ws.close();
  });
});

describe('BrowserTransport: audio out, reports back', () => {
  test('audio becomes binary frames (seq per epoch); cumulative reports and the sentence ack come back', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url, { windowMs: 800 });
    const { transport, session } = await h.connection();
    for (let i = 0; i < 10; i++) transport.sendAudio({ epoch: 0, sentenceId: 1, bytes: pcm(20, 24000, i * 480), durationMs: 20 });
    transport.endSentence(0, 1);
    await session.until(() => session.of('sentencePlayed').length > 0, 3_000, 'sentence ack');
    assert.deepEqual(session.of('sentencePlayed'), [{ kind: 'sentencePlayed', epoch: 0, sentenceId: 1 }]);
    assert.deepEqual(client.frames.map((f) => [f.epoch, f.seq, f.sentenceId, f.samples, f.result]), Array.from({ length: 10 }, (_, i) => [0, i, 1, 480, 'accepted']));
    const played = session.of('played').map((e) => e.playedMs);
    assert.ok(played.length >= 2, `reports: ${played.join(',')}`);
    for (let i = 1; i < played.length; i++) assert.ok(played[i]! > played[i - 1]!, 'cumulative reports only grow');
    assert.equal(played.at(-1), 200);
    // The ack follows the report that reached the sentence's end.
    const kinds = session.events.map((e) => e.kind);
    assert.ok(kinds.lastIndexOf('played') < kinds.indexOf('sentencePlayed'));
    assert.equal(transport.stats().framesSent, 10);
    assert.equal(transport.stats().sentenceEndsSent, 1);
    await client.close();
  });

  test('a chunk longer than 200 ms is split into frames of at most 200 ms', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url, { windowMs: 2000 });
    const { transport } = await h.connection();
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(500, 24000), durationMs: 500 });
    await client.waitUntil(() => client.framesReceived === 3, 2_000, 'three frames');
    assert.deepEqual(client.frames.map((f) => f.samples), [4800, 4800, 2400]);
    assert.deepEqual(client.frames.map((f) => f.seq), [0, 1, 2]);
    await client.close();
  });

  test('clear drops what the client holds; old-epoch sends are dropped; a new epoch restarts seq and positions', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url, { windowMs: 800 });
    const { transport, session } = await h.connection();
    for (let i = 0; i < 30; i++) transport.sendAudio({ epoch: 0, sentenceId: 1, bytes: pcm(20, 24000), durationMs: 20 });
    await session.until(() => session.of('played').some((e) => e.playedMs >= 100), 3_000, 'some playback');
    transport.clear(1);
    await client.waitUntil(() => client.clears === 1, 2_000, 'clear');
    assert.equal(client.bufferedMs, 0, 'the player dropped everything at once');
    const clearedAt = client.lastClearAt ?? client.now();
    transport.sendAudio({ epoch: 0, sentenceId: 1, bytes: pcm(20, 24000), durationMs: 20 });
    transport.endSentence(0, 1);
    assert.equal(transport.stats().staleSends, 2);
    transport.sendAudio({ epoch: 1, sentenceId: 2, bytes: pcm(40, 24000), durationMs: 40 });
    transport.endSentence(1, 2);
    await session.until(() => session.of('sentencePlayed').some((e) => e.epoch === 1), 3_000, 'epoch 1 ack');
    assert.equal(client.heardSince(clearedAt, 0), 0, 'nothing of epoch 0 played after the clear');
    assert.equal(client.stalePlayedSamples, 0);
    assert.deepEqual(client.frames.filter((f) => f.epoch === 1).map((f) => f.seq), [0]);
    assert.equal(session.of('played').filter((e) => e.epoch === 1).at(-1)?.playedMs, 40);
    assert.deepEqual(session.of('sentencePlayed'), [{ kind: 'sentencePlayed', epoch: 1, sentenceId: 2 }], 'the cleared sentence is never acked');
    await client.close();
  });

  test('audio of a newer epoch without a clear is preceded by one', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { transport } = await h.connection();
    transport.sendAudio({ epoch: 3, sentenceId: 0, bytes: pcm(20, 24000), durationMs: 20 });
    await client.waitUntil(() => client.framesReceived === 1, 2_000, 'frame');
    assert.deepEqual(client.messages.filter((m) => m.type !== 'ready'), [{ type: 'clear', epoch: 3 }]);
    assert.equal(client.frames[0]?.result, 'accepted');
    assert.equal(client.core.counters.implicitClears, 0, 'the client never had to guess');
    assert.equal(transport.stats().implicitClears, 1);
    assert.equal(transport.currentEpoch, 3);
    await client.close();
  });

  test('played reports of an older epoch are ignored; of a future epoch they are a bad field', async () => {
    const h = await harness();
    const raw = await rawClient(h.url);
    raw.ws.send(hello());
    await raw.next();
    const { transport, session } = await h.connection();
    transport.clear(2);
    await raw.next();
    raw.ws.send(encodeControl({ type: 'played', epoch: 1, playedMs: 500 }));
    raw.ws.send(encodeControl({ type: 'sentence_played', epoch: 0, sentenceId: 1 }));
    raw.ws.send(encodeControl({ type: 'played', epoch: 3, playedMs: 5 }));
    raw.ws.send(encodeControl({ type: 'played', epoch: 2, playedMs: 20 }));
    await session.until(() => session.of('played').length > 0);
    assert.deepEqual(session.events.slice(1).map((e) => e.kind), ['badInput', 'played']);
    assert.deepEqual(session.of('played'), [{ kind: 'played', epoch: 2, playedMs: 20 }]);
    assert.equal(transport.stats().staleReports, 2);
    assert.deepEqual(parsed(await raw.next()), { type: 'error', code: 'VW_ERR_BAD_FIELD', message: 'bad or missing field epoch', detail: 'epoch' });
    raw.ws.close();
  });
});

describe('BrowserTransport: mic audio in', () => {
  test('mic frames at the playback rate reach the session unchanged', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url, { micRate: 24000 });
    const { session } = await h.connection();
    const samples = Int16Array.from({ length: 2400 }, (_, i) => i - 1200);
    await client.sendMic(samples, { frameMs: 20 });
    await session.until(() => session.of('audio').length === 5);
    const audio = session.of('audio');
    assert.deepEqual(audio.map((a) => a.ms), [20, 20, 20, 20, 20]);
    const joined = Buffer.concat(audio.map((a) => a.bytes));
    assert.deepEqual(new Uint8Array(joined), int16ToPcm(samples));
    await client.close();
  });

  test('16 kHz mic audio is resampled to the 24 kHz playback format', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url, { micRate: 16000, playbackRate: 24000 });
    const { session, transport } = await h.connection();
    const samples = Int16Array.from({ length: 3200 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    await client.sendMic(samples, { frameMs: 20 });
    await session.until(() => session.of('audio').reduce((ms, a) => ms + a.ms, 0) >= 190, 3_000, '~200 ms of audio');
    const audio = session.of('audio');
    for (const a of audio) {
      assert.equal(a.bytes.length % 2, 0);
      assert.equal(a.ms, a.bytes.length / 48, 'durations are in the 24 kHz playback format');
    }
    assert.equal(transport.stats().micFrames, 10);
    await client.close();
  });

  test('gaps in the mic sequence are counted as missing frames', async () => {
    const h = await harness();
    const raw = await rawClient(h.url);
    raw.ws.send(hello({ micRate: 16000, playbackRate: 16000 }));
    await raw.next();
    const { session, transport } = await h.connection();
    for (const seq of [0, 1, 4, 5]) raw.ws.send(encodeFrame({ kind: 'mic', sampleRate: 16000, epoch: 0, seq, sentenceId: 0, pcm: pcm(20, 16000) }));
    await session.until(() => session.of('audio').length === 4);
    assert.equal(transport.stats().micFramesMissing, 2);
    raw.ws.close();
  });
});

describe('BrowserTransport: malformed input', () => {
  test('each malformed message gets its specific coded error and the connection lives on', async () => {
    const h = await harness();
    const raw = await rawClient(h.url);
    const { session } = await h.connection();
    const micOk = (): Uint8Array => encodeFrame({ kind: 'mic', sampleRate: 16000, epoch: 0, seq: 0, sentenceId: 0, pcm: pcm(20, 16000) });
    const broken = (index: number, value: number): Uint8Array => {
      const f = micOk();
      f[index] = value;
      return f;
    };
    const cases: Array<[string | Uint8Array, string, string | undefined]> = [
      [encodeControl({ type: 'played', epoch: 0, playedMs: 1 }), 'VW_ERR_BEFORE_HELLO', 'played'],
      [micOk(), 'VW_ERR_BEFORE_HELLO', 'mic'],
      [hello(), '', undefined],
      ['not json', 'VW_ERR_BAD_JSON', undefined],
      ['{"type":"dance"}', 'VW_ERR_UNKNOWN_EVENT', 'dance'],
      ['{"type":"played","epoch":0}', 'VW_ERR_BAD_FIELD', 'playedMs'],
      [JSON.stringify({ type: 'ping', id: 1, t: 0, pad: 'x'.repeat(MAX_CONTROL_BYTES) }), 'VW_ERR_MESSAGE_TOO_LARGE', undefined],
      [hello(), 'VW_ERR_DUPLICATE_HELLO', 'hello'],
      [new Uint8Array(5), 'VW_ERR_BAD_FRAME', 'too-short'],
      [broken(0, 0x11), 'VW_ERR_BAD_FRAME', 'magic'],
      [broken(1, 1), 'VW_ERR_BAD_FRAME', 'direction'],
      [broken(2, 2), 'VW_ERR_BAD_FRAME', 'rate-mismatch'],
      [encodeFrame({ kind: 'mic', sampleRate: 16000, epoch: 0, seq: 0, sentenceId: 0, pcm: pcm(120, 16000) }), 'VW_ERR_BAD_FRAME', 'too-long'],
      [micOk().subarray(0, 19), 'VW_ERR_BAD_FRAME', 'odd-length'],
    ];
    for (const [input, code, detail] of cases) {
      raw.ws.send(input, { binary: typeof input !== 'string' });
      const reply = parsed(await raw.next());
      if (code === '') {
        assert.equal(reply.type, 'ready');
        continue;
      }
      assert.equal(reply.type, 'error');
      if (reply.type !== 'error') continue;
      assert.equal(reply.code, code, `for ${typeof input === 'string' ? input.slice(0, 40) : 'a binary frame'}`);
      assert.equal(reply.detail, detail);
    }
    // Still alive: a ping is answered and a good mic frame is delivered.
    raw.ws.send(encodeControl({ type: 'ping', id: 9, t: 1 }));
    assert.deepEqual(parsed(await raw.next()), { type: 'pong', id: 9, t: 1 });
    raw.ws.send(micOk());
    await session.until(() => session.of('audio').length === 1);
    assert.deepEqual(
      session.of('badInput').map((e) => e.code),
      cases.filter(([, code]) => code !== '').map(([, code]) => code),
    );
    raw.ws.close();
  });

  test('past maxBadInputs the connection is closed with 4003', async () => {
    const h = await harness({ maxBadInputs: 3 });
    const raw = await rawClient(h.url);
    for (let i = 0; i < 4; i++) raw.ws.send('junk');
    assert.equal((await raw.closed).code, 4003);
    const { session } = await h.connection();
    await session.until(() => session.of('closed').length === 1);
    assert.equal(session.of('badInput').length, 3);
    assert.equal(session.of('closed')[0]?.errorCode, 'VW_ERR_TOO_MANY_BAD_INPUTS');
  });
});

describe('BrowserTransport: other messages and lifecycle', () => {
  test('state, transcript and stats reach the client; long transcripts are split under the size bound', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { transport } = await h.connection();
    const from = client.messageIndex;
    transport.sendState('speaking');
    transport.sendTranscript('assistant', 'Hello there.', true);
    const long = '\u0001"é'.repeat(700);
    transport.sendTranscript('user', long, true);
    transport.sendStats({ creditMs: 320, windowMs: 800, serverBufferedMs: 1200, inFlightMs: Number.NaN, lastBargeInMs: 4 });
    await client.waitForMessage('stats', 2_000, () => true, from);
    const messages = client.messages.slice(client.messages.length - (client.messageIndex - from));
    assert.deepEqual(messages[0], { type: 'state', state: 'speaking' });
    assert.deepEqual(messages[1], { type: 'transcript', role: 'assistant', text: 'Hello there.', final: true });
    const pieces = messages.filter((m): m is Extract<ServerMessage, { type: 'transcript' }> => m.type === 'transcript' && m.role === 'user');
    assert.ok(pieces.length > 1);
    assert.equal(pieces.map((p) => p.text).join(''), long);
    assert.deepEqual(pieces.map((p) => p.final), pieces.map((_, i) => i === pieces.length - 1));
    for (const p of pieces) assert.ok(utf8Length(encodeControl(p)) <= MAX_CONTROL_BYTES);
    assert.deepEqual(messages.at(-1), { type: 'stats', creditMs: 320, windowMs: 800, serverBufferedMs: 1200, lastBargeInMs: 4 });
    assert.equal(client.protocolErrors, 0);
    await client.close();
  });

  test('the client pings and gets its pong; ping() measures the round trip from the client pong', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { transport } = await h.connection();
    const from = client.messageIndex;
    client.send({ type: 'ping', id: 42, t: 1234.5 });
    assert.deepEqual(await client.waitForMessage('pong', 2_000, () => true, from), { type: 'pong', id: 42, t: 1234.5 });
    assert.equal(transport.rttMs, undefined);
    transport.ping();
    await client.waitForMessage('ping', 2_000, () => true, from);
    // The fake answered at once; a second ping of ours is answered only after the server read that pong.
    const fence = client.messageIndex;
    client.send({ type: 'ping', id: 43, t: 0 });
    await client.waitForMessage('pong', 2_000, (m) => m.id === 43, fence);
    assert.ok(transport.rttMs !== undefined && transport.rttMs >= 0);
    transport.sendStats({ creditMs: 1, windowMs: 800, serverBufferedMs: 0 });
    const stats = await client.waitForMessage('stats', 2_000);
    assert.equal(stats.rttMs, transport.rttMs);
    await client.close();
  });

  test('bye ends the call with 1000', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { session } = await h.connection();
    assert.equal((await client.bye()).code, 1000);
    await session.until(() => session.of('closed').length === 1);
    assert.deepEqual(session.of('closed')[0], { kind: 'closed', code: 1000, reason: 'bye', errorCode: undefined });
  });

  test('close() closes the socket with the code and reports closed once; later sends are dropped quietly', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { transport, session, socket } = await h.connection();
    assert.equal(transport.bufferedAmount(), socket.bufferedAmount);
    transport.close(4010, 'VW_ERR_MODEL_UNAVAILABLE');
    transport.close(1000, 'again');
    assert.deepEqual((await client.closed), { code: 4010, reason: 'VW_ERR_MODEL_UNAVAILABLE' });
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(20, 24000), durationMs: 20 });
    transport.endSentence(0, 0);
    transport.sendState('listening');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(session.of('closed').length, 1);
    assert.ok(transport.stats().sendsDropped >= 3);
  });

  test('a client that goes away is reported as closed with its code', async () => {
    const h = await harness();
    const client = await FakeBrowserClient.connect(h.url);
    const { session } = await h.connection();
    client.ws.terminate();
    await session.until(() => session.of('closed').length === 1);
    const closed = session.of('closed')[0]!;
    assert.equal(closed.code, 1006);
    assert.equal(closed.errorCode, 'VW_ERR_CLOSED');
  });

  test('sends before hello are dropped without throwing', async () => {
    const h = await harness();
    const raw = await rawClient(h.url);
    const { transport } = await h.connection();
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(20, 24000), durationMs: 20 });
    transport.sendTranscript('user', 'hi', true);
    raw.ws.send(hello());
    const first = await raw.next();
    assert.equal(parsed(first).type, 'ready', 'nothing was sent before ready');
    assert.equal(transport.stats().sendsDropped, 2);
    raw.ws.close();
  });
});
