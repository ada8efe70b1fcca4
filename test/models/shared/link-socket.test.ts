/**
 * LinkSocket.open's own deadline: a server that takes the TCP connection but never answers the
 * upgrade is given up on after `openTimeoutMs` with VW_ERR_MODEL_UNAVAILABLE (the deadline is
 * LinkSocket's timer, not ws's `handshakeTimeout`, whose dead socket timer Node would keep).
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import WebSocket from 'ws';
import { isVoicewireError } from '../../../src/errors.js';
import { LinkSocket, type LinkSocketHandlers } from '../../../src/models/shared/link-socket.js';

const held: Socket[] = [];
const silent = createServer((socket) => void held.push(socket));
after(() => {
  for (const socket of held) socket.destroy();
  silent.close();
});

const handlers: LinkSocketHandlers = { open: () => undefined, text: () => undefined, binary: () => undefined, drop: () => undefined };
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('LinkSocket.open', () => {
  test('a server that never answers the upgrade: VW_ERR_MODEL_UNAVAILABLE after openTimeoutMs', async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const started = performance.now();
    const opening = LinkSocket.open(
      {
        url: `ws://127.0.0.1:${port}`, headers: {}, WebSocketImpl: WebSocket, maxPayload: 1024, openTimeoutMs: 150,
        heartbeatMs: 0, missedPongsLimit: 2, logger: quiet,
      },
      handlers,
      new AbortController().signal,
    );
    await assert.rejects(opening, (err: unknown) => {
      assert.ok(isVoicewireError(err, 'VW_ERR_MODEL_UNAVAILABLE'), String(err));
      assert.match(err.message, /no upgrade answer within 150 ms/);
      return true;
    });
    assert.ok(performance.now() - started >= 145, 'not before the deadline');
  });
});
