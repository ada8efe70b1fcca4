import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startFloorForwarder, type FloorMode } from '../../bench/floor-forwarder.js';
import type { NaiveForwarder } from '../../bench/naive-forwarder.js';

const SID = 'MZ0123456789abcdef0123456789abcdef';
const DEADLINE = { signal: AbortSignal.timeout(10_000) };

/** Twilio's inbound media layout; the payload of frame `i` is 160 bytes of value i. */
const frameBytes = (i: number): Buffer => Buffer.alloc(160, i);
const mediaFrame = (i: number): string =>
  `{"event":"media","sequenceNumber":"${i + 2}","media":{"track":"inbound","chunk":"${i + 1}","timestamp":"${i * 20}","payload":"${frameBytes(i).toString('base64')}"},"streamSid":"${SID}"}`;
const START = JSON.stringify({ event: 'start', sequenceNumber: '1', start: { streamSid: SID, callSid: 'CA1', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } }, streamSid: SID });

/** A model socket server that records what the bridge sends (session.update first). */
async function fakeModel(): Promise<{ wss: WebSocketServer; url: string; socket: Promise<WebSocket> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const socket = once(wss, 'connection').then(([ws]) => ws as WebSocket);
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, socket };
}

async function nextText(ws: WebSocket): Promise<Record<string, unknown>> {
  const [data] = (await once(ws, 'message', DEADLINE)) as [Buffer];
  return JSON.parse(data.toString('utf8')) as Record<string, unknown>;
}

for (const mode of ['cadence', 'recv'] satisfies FloorMode[]) {
  void describe(`floor forwarder (${mode})`, () => {
    let model: Awaited<ReturnType<typeof fakeModel>>;
    let floor: NaiveForwarder;
    let caller: WebSocket;
    let modelSide: WebSocket;

    before(async () => {
      model = await fakeModel();
      floor = await startFloorForwarder({ realtimeUrl: model.url, apiKey: 'k' }, mode);
      caller = new WebSocket(`ws://127.0.0.1:${floor.port}/twilio/media`);
      await once(caller, 'open', DEADLINE);
      modelSide = await model.socket;
      assert.equal((await nextText(modelSide))['type'], 'session.update');
      caller.send(START);
    });

    after(async () => {
      caller.terminate();
      await floor.close();
      await new Promise<void>((resolve) => model.wss.close(() => resolve()));
    });

    test(mode === 'cadence' ? '20 caller frames become one append of their bytes, in order' : 'caller frames are received and dropped', async () => {
      const appends: Record<string, unknown>[] = [];
      modelSide.on('message', (data: Buffer) => appends.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
      for (let i = 0; i < 20; i++) caller.send(mediaFrame(i));
      // A delta back is the event that the bridge has read everything before it (one socket, in order).
      const delta = Buffer.alloc(800, 0x7f).toString('base64');
      modelSide.send(JSON.stringify({ type: 'response.output_audio.delta', event_id: 'e1', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0, delta }));
      if (mode === 'cadence') {
        const media = await nextText(caller);
        assert.deepEqual(media, { event: 'media', streamSid: SID, media: { payload: delta } });
        // The append left before the delta came back? Not ordered across sockets: wait for it.
        if (appends.length === 0) await once(modelSide, 'message', DEADLINE);
        assert.equal(appends.length, 1);
        assert.equal(appends[0]!['type'], 'input_audio_buffer.append');
        const expected = Buffer.concat(Array.from({ length: 20 }, (_, i) => frameBytes(i)));
        assert.deepEqual(Buffer.from(appends[0]!['audio'] as string, 'base64'), expected);
      } else {
        // A pong comes back behind everything the peer wrote before it on that socket: caller ping
        // → the floor has read the frames; model ping → anything it sent the model has arrived;
        // caller ping again → anything it sent the caller has arrived.
        const heard: unknown[] = [];
        caller.on('message', (data) => heard.push(data));
        const roundTrip = async (ws: WebSocket): Promise<void> => {
          const pong = once(ws, 'pong', DEADLINE);
          ws.ping();
          await pong;
        };
        await roundTrip(caller);
        await roundTrip(modelSide);
        await roundTrip(caller);
        assert.equal(appends.length, 0);
        assert.equal(heard.length, 0);
      }
    });
  });
}
