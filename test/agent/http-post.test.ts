/** post(): the deadline covers the body too, and an undeclared oversized body is cut at the cap. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MAX_ANSWER_BYTES, post, postJson } from '../../src/agent/http-post.js';

let server: Server;
let base = '';
let chunksWritten = 0;
before(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (req.url === '/stream-forever') {
      // Chunked, no content-length: 8 KiB every tick until the client goes away.
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => {
        chunksWritten++;
        res.write('x'.repeat(8192));
      }, 1);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/headers-then-stall') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"output":');
      return; // the body never finishes
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('post', () => {
  test('a chunked body past the cap is abandoned there: too-large, and the stream is cut', async () => {
    const outcome = await post(`${base}/stream-forever`, { body: '{}', timeoutMs: 5_000 });
    assert.deepEqual([outcome.ok, outcome.ok ? '' : outcome.failure], [false, 'too-large']);
    const written = chunksWritten;
    assert.ok(written * 8192 < MAX_ANSWER_BYTES * 4, `the server was not read to the end (${written} chunks)`);
  });

  test('headers in time but a body that never ends: timeout', async () => {
    const startedAt = performance.now();
    const outcome = await post(`${base}/headers-then-stall`, { body: '{}', timeoutMs: 200 });
    assert.deepEqual([outcome.ok, outcome.ok ? '' : outcome.failure], [false, 'timeout']);
    assert.ok(performance.now() - startedAt < 1_000);
  });

  test('nothing listening: network', async () => {
    const outcome = await post('http://127.0.0.1:1/x', { body: '{}', timeoutMs: 1_000 });
    assert.deepEqual([outcome.ok, outcome.ok ? '' : outcome.failure], [false, 'network']);
  });

  test('postJson parses a JSON answer', async () => {
    assert.deepEqual(await postJson(`${base}/ok`, { a: 1 }, { timeoutMs: 1_000 }), { ok: true, status: 200, json: { ok: true } });
  });
});
