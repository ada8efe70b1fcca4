import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import type { WebSocket, WebSocketServer } from 'ws';

// The module patches ws's unmask for this process, as in the generator: it must load before ws
// (which a static import cannot ensure), so both are imported here, in that order.
const { unmaskUnrolled } = await import('../../../bench/load/fast-unmask.js');
const ws = await import('ws');

/** RFC 6455 §5.3, byte by byte: what ws's own loop does. */
function unmaskReference(buffer: Uint8Array, mask: Uint8Array): void {
  for (let i = 0; i < buffer.length; i++) buffer[i]! ^= mask[i % 4]!;
}

void describe('fast-unmask (ws unmasking unrolled, in the generator process)', () => {
  void test('gives the bytes of the byte-by-byte XOR, any length and offset (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(3), (bytes, mask, offset) => {
        const backing = new Uint8Array(bytes.length + offset);
        const view = backing.subarray(offset);
        view.set(bytes);
        const expected = Uint8Array.from(bytes);
        unmaskReference(expected, mask);
        unmaskUnrolled(view, mask);
        assert.deepEqual(view, expected);
      }),
      { numRuns: 1_000 },
    );
  });

  void describe('with ws loaded after it', () => {
    let wss: WebSocketServer;
    let client: WebSocket;
    let server: WebSocket;
    before(async () => {
      wss = new ws.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
      await once(wss, 'listening');
      const accepted = once(wss, 'connection');
      // ws's default: a random mask per frame, so the server side unmasks every message.
      client = new ws.WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
      await once(client, 'open');
      [server] = (await accepted) as [WebSocket];
    });
    after(async () => {
      client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    });

    void test('ws unmasks with it', () => {
      const require = createRequire(import.meta.url);
      const bufferUtil = require(join(dirname(require.resolve('ws')), 'lib', 'buffer-util.js')) as { unmask: unknown };
      assert.equal(bufferUtil.unmask, unmaskUnrolled);
    });

    void test('a ws server receives what a masking client sent (fast-check)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 3_000 }), async (text) => {
          const got = once(server, 'message', { signal: AbortSignal.timeout(5_000) });
          client.send(text);
          const [data] = (await got) as [Buffer];
          assert.equal(data.toString('utf8'), text);
        }),
        { numRuns: 100 },
      );
    });
  });
});
