import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionWatch } from '../../src/server/connection-watch.js';
import type { VoicewireError } from '../../src/errors.js';

async function pair(clientOptions: { autoPong?: boolean } = {}): Promise<{ server: WebSocket; client: WebSocket; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, clientOptions);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  return { server, client, wss };
}

function fatalPromise(): { onFatal: (e: VoicewireError) => void; fatal: Promise<VoicewireError> } {
  let resolve!: (e: VoicewireError) => void;
  const fatal = new Promise<VoicewireError>((r) => (resolve = r));
  return { onFatal: resolve, fatal };
}

describe('ConnectionWatch', () => {
  test('cuts off a consumer that stops reading once bufferedAmount stays past the cap', async () => {
    const { server, client, wss } = await pair();
    const { onFatal, fatal } = fatalPromise();
    let warnings = 0;
    const watch = new ConnectionWatch(server, {
      name: 'test', warnBytes: 64 * 1024, cutoffBytes: 256 * 1024, cutoffMs: 200, heartbeatMs: 60_000,
      sampleMs: 20, onWarn: () => warnings++, onFatal,
    });
    // The client stops reading; the server keeps writing until the kernel buffers are full and
    // ws starts to buffer in user space.
    (client as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = Buffer.alloc(64 * 1024);
    const writer = setInterval(() => {
      if (server.readyState === WebSocket.OPEN && server.bufferedAmount < 4 * 1024 * 1024) server.send(chunk);
    }, 2);
    const error = await fatal;
    clearInterval(writer);
    assert.equal(error.code, 'VW_ERR_SLOW_CONSUMER');
    assert.equal(error.closeCode, 4008);
    assert.equal(warnings, 1, 'one warning per episode, not one per sample');
    await once(server, 'close');
    watch.stop();
    client.terminate();
    wss.close();
  });

  // sampleMs 250 with a 30 ms heartbeat: the heartbeat has its own timer; sampleMs 10: it runs on
  // every third (or second) sample tick.
  for (const sampleMs of [undefined, 10]) {
    const timers = sampleMs === undefined ? 'its own timer' : 'the sample timer';
    test(`terminates a peer that misses two heartbeats (heartbeat on ${timers})`, { timeout: 5_000 }, async () => {
      // A peer that never answers pings (autoPong off, nothing sent by hand): a dead peer.
      const { server, client, wss } = await pair({ autoPong: false });
      const { onFatal, fatal } = fatalPromise();
      const missed: number[] = [];
      new ConnectionWatch(server, {
        name: 'test', warnBytes: 1e9, cutoffBytes: 1e9, cutoffMs: 1e9, heartbeatMs: 30, ...(sampleMs === undefined ? {} : { sampleMs }),
        onHeartbeatMissed: (n) => missed.push(n), onFatal,
      });
      const error = await fatal;
      assert.equal(error.code, 'VW_ERR_HEARTBEAT');
      assert.deepEqual(missed, [1, 2]);
      await once(client, 'close');
      wss.close();
    });

    test(`a peer that answers pings is left alone (heartbeat on ${timers})`, { timeout: 5_000 }, async () => {
      const { server, client, wss } = await pair();
      let fatalCalls = 0;
      let pongs = 0;
      server.on('pong', () => pongs++);
      const watch = new ConnectionWatch(server, {
        name: 'test', warnBytes: 1e9, cutoffBytes: 1e9, cutoffMs: 1e9, heartbeatMs: 20, ...(sampleMs === undefined ? {} : { sampleMs }), onFatal: () => fatalCalls++,
      });
      while (pongs < 5) await once(server, 'pong');
      assert.equal(fatalCalls, 0);
      assert.equal(server.readyState, WebSocket.OPEN);
      watch.stop();
      client.close();
      await once(server, 'close');
      wss.close();
    });
  }
});
