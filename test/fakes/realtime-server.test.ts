/**
 * The fake Realtime server itself, driven by a raw `ws` client: if the fake lies about the
 * protocol, every client test built on it lies too.
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import alawmulaw from 'alawmulaw';
import { linearToUlaw, silenceBytes, toneBytes, ulawToLinear } from './realtime-server-audio.js';
import { FakeRealtimeServer } from './realtime-server.js';

const GA_SESSION_PCMU = {
  type: 'realtime',
  output_modalities: ['audio'],
  instructions: 'be brief',
  audio: {
    input: {
      format: { type: 'audio/pcmu' },
      turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500, create_response: true, interrupt_response: true },
    },
    output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
  },
};

// Server events are checked field by field in the tests; `any` keeps those reads short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any> & { type: string };

/** A raw client that records every server event and waits for them by type. */
class RawClient extends EventEmitter {
  readonly events: Msg[] = [];
  constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as Msg;
      this.events.push(msg);
      this.emit('event', msg);
    });
  }

  static async open(url: string, headers: Record<string, string> = { Authorization: 'Bearer test-key' }): Promise<RawClient> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(event: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(event));
  }

  ofType(type: string): Msg[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Resolves with the `count`-th event of `type` (1-based), waiting for it with a deadline. */
  waitFor(type: string, count = 1, timeoutMs = 5000): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      const check = (): boolean => {
        const found = this.ofType(type)[count - 1];
        if (found === undefined) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${type} #${count}; got ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('event', check);
      };
      this.on('event', check);
      check();
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

async function configured(fake: FakeRealtimeServer, session: object = GA_SESSION_PCMU): Promise<RawClient> {
  const client = await RawClient.open(fake.url());
  await client.waitFor('session.created');
  client.send({ type: 'session.update', session });
  await client.waitFor('session.updated');
  return client;
}

function append(client: RawClient, bytes: Uint8Array): void {
  client.send({ type: 'input_audio_buffer.append', audio: Buffer.from(bytes).toString('base64') });
}

describe('fake realtime server', () => {
  let fake: FakeRealtimeServer;
  before(async () => {
    fake = await FakeRealtimeServer.start({ answerMs: 1000, deltaMs: 100, speedFactor: 20 });
  });
  after(async () => {
    await fake.close();
  });

  test('its μ-law codec agrees with the alawmulaw package', () => {
    for (let code = 0; code < 256; code++) assert.equal(ulawToLinear(code), alawmulaw.mulaw.decodeSample(code) || 0, `code ${code}`); // -0 → 0
    for (let s = -32768; s <= 32767; s += 7) assert.equal(linearToUlaw(s), alawmulaw.mulaw.encodeSample(s) & 0xff, `sample ${s}`); // alawmulaw leaves the byte unmasked
  });

  test('refuses an upgrade without the right key with HTTP 401', async () => {
    const ws = new WebSocket(fake.url(), { headers: { Authorization: 'Bearer wrong' } });
    // ws reports the aborted handshake as an error after the response: expected here.
    ws.on('error', () => undefined);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('opened')));
    });
    ws.terminate();
    assert.equal(status, 401);
  });

  test('accepts the Azure api-key header and records the request', async () => {
    const client = await RawClient.open(fake.url('my-deployment', '/openai/v1/realtime'), { 'api-key': 'test-key' });
    const created = await client.waitFor('session.created');
    assert.equal(created.session.model, 'my-deployment');
    const record = fake.log.connections.at(-1)!;
    assert.equal(record.url, '/openai/v1/realtime?model=my-deployment');
    assert.equal(record.headers['api-key'], 'test-key');
    client.close();
  });

  test('answers beta-shaped session.update with the real errors', async () => {
    const client = await RawClient.open(fake.url());
    await client.waitFor('session.created');
    client.send({ type: 'session.update', event_id: 'e1', session: { voice: 'alloy', modalities: ['audio'], input_audio_format: 'g711_ulaw' } });
    const missing = await client.waitFor('error');
    assert.deepEqual(missing.error, {
      type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'session.type'.",
      param: 'session.type', event_id: 'e1',
    });
    client.send({ type: 'session.update', event_id: 'e2', session: { type: 'realtime', voice: 'alloy' } });
    const unknown = await client.waitFor('error', 2);
    assert.equal(unknown.error.code, 'unknown_parameter');
    assert.equal(unknown.error.param, 'session.voice');
    assert.equal(unknown.error.message, "Unknown parameter: 'session.voice'.");
    assert.equal(client.ofType('session.updated').length, 0);
    client.close();
  });

  test('answers an OpenAI-Beta header with beta_api_shape_disabled and close 4000', async () => {
    const client = await RawClient.open(fake.url(), { Authorization: 'Bearer test-key', 'OpenAI-Beta': 'realtime=v1' });
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    const error = await client.waitFor('error');
    assert.equal(error.error.code, 'beta_api_shape_disabled');
    assert.equal(await closed, 4000);
  });

  test('session.updated reports the merged effective session', async () => {
    const client = await configured(fake);
    const updated = client.ofType('session.updated')[0]!;
    assert.deepEqual(updated.session.audio.input.format, { type: 'audio/pcmu' });
    assert.equal(updated.session.audio.output.voice, 'marin');
    assert.equal(updated.session.instructions, 'be brief');
    client.close();
  });

  test('a response streams created → deltas → done in the GA order, faster than real time', async () => {
    const client = await configured(fake);
    client.send({ type: 'response.create' });
    const done = await client.waitFor('response.done');
    assert.equal(done.response.status, 'completed');
    const types = client.events.map((e) => e.type).filter((t) => t.startsWith('response.') || t.startsWith('conversation.'));
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.done');
    const deltas = client.ofType('response.output_audio.delta');
    assert.equal(deltas.length, 10);
    const audio = Buffer.concat(deltas.map((d) => Buffer.from(d.delta as string, 'base64')));
    assert.deepEqual(new Uint8Array(audio), toneBytes('pcmu', 0, 1000));
    const order = ['response.output_audio.done', 'response.output_audio_transcript.done', 'response.content_part.done', 'response.output_item.done', 'response.done'];
    assert.deepEqual(types.filter((t) => order.includes(t)), order);
    const transcript = client.ofType('response.output_audio_transcript.delta').map((d) => d.delta as string).join('');
    assert.equal(transcript, fake.options.transcript);
    client.close();
  });

  test('response.cancel with nothing active answers response_cancel_not_active', async () => {
    const client = await configured(fake);
    client.send({ type: 'response.cancel', event_id: 'c1' });
    const error = await client.waitFor('error');
    assert.equal(error.error.code, 'response_cancel_not_active');
    assert.equal(error.error.message, 'Cancellation failed: no active response found');
    assert.equal(error.error.event_id, 'c1');
    assert.equal(fake.log.cancels.at(-1)!.active, false);
    client.close();
  });

  test('response.cancel stops an active response with client_cancelled', async () => {
    const slow = await FakeRealtimeServer.start({ answerMs: 20_000, speedFactor: 5 });
    try {
      const client = await configured(slow);
      client.send({ type: 'response.create' });
      const delta = await client.waitFor('response.output_audio.delta');
      client.send({ type: 'response.cancel', response_id: delta.response_id });
      const done = await client.waitFor('response.done');
      assert.equal(done.response.status, 'cancelled');
      assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
      assert.equal(slow.log.cancels[0]!.active, true);
      assert.ok(slow.log.responses[0]!.audioMs < 20_000);
      client.close();
    } finally {
      await slow.close();
    }
  });

  test('truncate past the audio answers the real error; within it answers truncated', async () => {
    const client = await configured(fake);
    client.send({ type: 'response.create' });
    const done = await client.waitFor('response.done');
    const itemId = done.response.output[0].id as string;
    client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 5000 });
    const error = await client.waitFor('error');
    assert.equal(error.error.message, 'Audio content of 1000ms is already shorter than 5000ms');
    client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 400 });
    const truncated = await client.waitFor('conversation.item.truncated');
    assert.deepEqual([truncated.item_id, truncated.audio_end_ms], [itemId, 400]);
    assert.deepEqual(fake.log.truncates.slice(-2).map((t) => t.ok), [false, true]);
    client.close();
  });

  test('server VAD: speech_started after detectionDelayMs of voiced audio, by the audio clock', async () => {
    const client = await configured(fake);
    const before = fake.log.appendedMs;
    append(client, silenceBytes('pcmu', 1000));
    // 300 ms of tone in 20 ms frames, appended at once: the audio clock, not the wall clock, counts.
    for (let ms = 0; ms < 300; ms += 20) append(client, toneBytes('pcmu', ms, 20));
    const started = await client.waitFor('input_audio_buffer.speech_started');
    // Voiced from 1000 ms; detected 100 ms later; reported from the start minus 300 ms padding.
    assert.equal(started.audio_start_ms, 700);
    append(client, silenceBytes('pcmu', 600));
    const stopped = await client.waitFor('input_audio_buffer.speech_stopped');
    assert.equal(stopped.audio_end_ms, 1800);
    await client.waitFor('input_audio_buffer.committed');
    await client.waitFor('response.created');
    assert.equal(fake.log.appendedMs - before, 1900);
    client.close();
  });

  test('speech during a response cancels it with turn_detected (interrupt_response)', async () => {
    const slow = await FakeRealtimeServer.start({ answerMs: 20_000, speedFactor: 5 });
    try {
      const client = await configured(slow);
      client.send({ type: 'response.create' });
      await client.waitFor('response.output_audio.delta');
      slow.emitSpeechStarted();
      const done = await client.waitFor('response.done');
      assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
      assert.equal(slow.log.speechStartedAt.length, 1);
      client.close();
    } finally {
      await slow.close();
    }
  });

  test('malformed JSON from a client gets an error event and the session lives on', async () => {
    const client = await configured(fake);
    client.ws.send('{not json');
    await client.waitFor('error');
    client.send({ type: 'response.create' });
    await client.waitFor('response.done');
    client.close();
  });

  test('dropAfterDeltas kills the connection mid-response without a close frame', async () => {
    const dropping = await FakeRealtimeServer.start({ answerMs: 5000, speedFactor: 10, dropAfterDeltas: 3 });
    try {
      const client = await configured(dropping);
      const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
      client.send({ type: 'response.create' });
      assert.equal(await closed, 1006);
      assert.equal(client.ofType('response.output_audio.delta').length, 3);
      assert.equal(client.ofType('response.done').length, 0);
    } finally {
      await dropping.close();
    }
  });
});

describe('fake realtime server: GA function calling', () => {
  test('a scripted call streams in the GA order and response.done carries the completed item', async () => {
    const fake = await FakeRealtimeServer.start({
      speedFactor: 20, script: [{ audioMs: 200, text: 'One moment.', functionCall: { name: 'lookup_order', arguments: '{"order_id":"A-1042"}' } }],
    });
    try {
      const client = await configured(fake, { ...GA_SESSION_PCMU, tools: [{ type: 'function', name: 'lookup_order', parameters: { type: 'object' } }], tool_choice: 'auto' });
      client.send({ type: 'response.create' });
      const done = await client.waitFor('response.done');
      const afterAudio = client.events.slice(client.events.findIndex((e) => e.type === 'response.output_audio.done'));
      const kinds = afterAudio.map((e) => e.type).filter((t) => t.startsWith('response.') && !t.includes('audio') && !t.includes('content_part'));
      assert.deepEqual(kinds, [
        'response.output_item.done', // the audio item
        'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
        'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done', 'response.done',
      ]);
      const added = client.ofType('response.output_item.added')[1]!;
      assert.deepEqual({ ...added.item, id: undefined, call_id: undefined }, { id: undefined, call_id: undefined, object: 'realtime.item', type: 'function_call', status: 'in_progress', name: 'lookup_order', arguments: '' });
      const deltas = client.ofType('response.function_call_arguments.delta').map((e) => e.delta as string).join('');
      assert.equal(deltas, '{"order_id":"A-1042"}');
      const argsDone = client.ofType('response.function_call_arguments.done')[0]!;
      assert.deepEqual([argsDone.name, argsDone.arguments, argsDone.call_id, argsDone.output_index], ['lookup_order', '{"order_id":"A-1042"}', added.item.call_id, 1]);
      assert.equal(done.response.status, 'completed');
      assert.deepEqual(done.response.output.map((item: { type: string }) => item.type), ['message', 'function_call']);
      client.close();
    } finally {
      await fake.close();
    }
  });

  test('function_call_output is added (item.added + item.done); a malformed one gets the API error', async () => {
    const fake = await FakeRealtimeServer.start({});
    try {
      const client = await configured(fake);
      client.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' } });
      const added = await client.waitFor('conversation.item.added');
      assert.deepEqual({ ...added.item, id: undefined }, { id: undefined, object: 'realtime.item', status: 'completed', type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' });
      await client.waitFor('conversation.item.done');
      client.send({ type: 'conversation.item.create', event_id: 'bad_1', item: { type: 'function_call_output', call_id: 'call_1', output: 42 } });
      const error = await client.waitFor('error');
      assert.deepEqual(error.error, { type: 'invalid_request_error', code: 'invalid_value', message: "Invalid type for 'item.output': expected a string.", param: 'item.output', event_id: 'bad_1' });
      assert.deepEqual(fake.log.functionOutputs.map((o) => o.callId), ['call_1']);
      client.close();
    } finally {
      await fake.close();
    }
  });

  test('tools that are not function tools are refused like the API does', async () => {
    const fake = await FakeRealtimeServer.start({});
    try {
      const client = await RawClient.open(fake.url());
      await client.waitFor('session.created');
      client.send({ type: 'session.update', session: { ...GA_SESSION_PCMU, tools: [{ type: 'retrieval', name: 'x' }] } });
      const error = await client.waitFor('error');
      assert.equal(error.error.param, 'session.tools[0].type');
      client.close();
    } finally {
      await fake.close();
    }
  });
});
