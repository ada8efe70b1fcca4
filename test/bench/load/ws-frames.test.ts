import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { WebSocket, WebSocketServer } from 'ws';
import { DirectTextWriter, isAscii, textFrameHeader } from '../../../bench/load/ws-frames.js';

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

/** Bytes arriving on `socket`, recorded before ws's own listener reads them. */
function tap(socket: Socket): { take: () => Buffer } {
  let chunks: Buffer[] = [];
  socket.prependListener('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    take: () => {
      const all = Buffer.concat(chunks);
      chunks = [];
      return all;
    },
  };
}

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

/** The text `receiver` gets next, and the bytes that carried it. */
async function nextMessage(receiver: WebSocket, bytes: { take: () => Buffer }): Promise<{ text: string; wire: Buffer }> {
  const [data, isBinary] = (await once(receiver, 'message', { signal: AbortSignal.timeout(5_000) })) as [Buffer, boolean];
  assert.equal(isBinary, false);
  return { text: data.toString('utf8'), wire: bytes.take() };
}

void describe('ws-frames (the load generator writes text frames to the socket itself)', () => {
  let wss: WebSocketServer;
  let client: WebSocket;
  let server: WebSocket;
  let atServer: { take: () => Buffer };
  let atClient: { take: () => Buffer };

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1 << 20 });
    await once(wss, 'listening');
    const accepted = once(wss, 'connection');
    client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false, generateMask: zeroMask, maxPayload: 1 << 20 });
    await once(client, 'open');
    [server] = (await accepted) as [WebSocket];
    atServer = tap(socketOf(server));
    atClient = tap(socketOf(client));
  });

  after(async () => {
    client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  /** Sends `text` with ws, then with the writer, each way; both must put the same bytes on the wire. */
  async function assertSameBytes(text: string): Promise<void> {
    const ways = [
      { name: 'client', from: client, to: server, atReceiver: atServer, masked: true },
      { name: 'server', from: server, to: client, atReceiver: atClient, masked: false },
    ];
    for (const way of ways) {
      way.from.send(text);
      const viaWs = await nextMessage(way.to, way.atReceiver);
      new DirectTextWriter(way.from, way.masked).send(text);
      const direct = await nextMessage(way.to, way.atReceiver);
      assert.equal(direct.text, text);
      assert.ok(direct.wire.equals(viaWs.wire), `${way.name} frame of ${text.length} chars differs from ws's`);
    }
  }

  void test('every length class (7-bit, 16-bit, 64-bit) frames exactly as ws does, masked and not', async () => {
    for (const length of [0, 1, 125, 126, 127, 1068, 65_535, 65_536, 70_000]) await assertSameBytes('x'.repeat(length));
  });

  void test('any ASCII text frames exactly as ws does (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 2_000 }), async (text) => {
        await assertSameBytes(text);
      }),
      { numRuns: 60 },
    );
  });

  void test('sendText sends non-ASCII text through ws as UTF-8', async () => {
    new DirectTextWriter(client, true).sendText('mark é ☎');
    assert.equal((await nextMessage(server, atServer)).text, 'mark é ☎');
  });

  void test('textFrameHeader: lengths in 7, 7+16 and 7+64 bits (RFC 6455 §5.2)', () => {
    assert.equal(textFrameHeader(5, false), '\x81\x05');
    assert.equal(textFrameHeader(5, true), '\x81\x85\x00\x00\x00\x00');
    assert.equal(textFrameHeader(300, false), '\x81\x7e\x01\x2c');
    assert.equal(textFrameHeader(0x12345, false), '\x81\x7f\x00\x00\x00\x00\x00\x01\x23\x45');
  });

  void test('isAscii', () => {
    assert.equal(isAscii(''), true);
    assert.equal(isAscii('{"a":"\x7f"}'), true);
    assert.equal(isAscii('\x80'), false);
    assert.equal(isAscii('é'), false);
  });

  void test('a WebSocket that is not connected yet is refused', () => {
    const pending = new WebSocket('ws://127.0.0.1:1', { perMessageDeflate: false });
    pending.on('error', () => undefined);
    assert.throws(() => new DirectTextWriter(pending, true), /no net\.Socket/);
    pending.terminate();
  });
});
