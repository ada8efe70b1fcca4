/**
 * ModelLink on its own, against a bare `ws` server that plays the provider: the handshake
 * deadline, a drop followed by a failed reconnect (lost, coded), caller audio bounded while the
 * link reconnects and flushed after, and close() during the backoff (nothing reported).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { isVoicewireError, type VoicewireError } from '../../../src/errors.js';
import { ModelLink, type ModelLinkHandlers } from '../../../src/models/shared/model-link.js';
import { resolveLinkOptions } from '../../../src/models/shared/options.js';
import { Conditions } from '../../helpers/conditions.js';
import { rawText } from '../../fakes/model-fake-server.js';

interface Provider {
  readonly url: string;
  readonly sockets: WebSocket[];
  /** Frames received per connection (text), in order. */
  readonly received: string[][];
  /** Whether new connections answer the setup with "ready". */
  answer: boolean;
  refuse: boolean;
  close(): Promise<void>;
}

async function provider(conditions: Conditions): Promise<Provider> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: () => !state.refuse });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const state: Provider = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    sockets: [], received: [], answer: true, refuse: false,
    close: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
  };
  wss.on('connection', (ws) => {
    const frames: string[] = [];
    state.sockets.push(ws);
    state.received.push(frames);
    ws.on('message', (data) => {
      const text = rawText(data);
      frames.push(text);
      if (text === 'setup' && state.answer) ws.send('ready');
      conditions.notify();
    });
    conditions.notify();
  });
  return state;
}

function link(url: string, log: string[], conditions: Conditions, options: Parameters<typeof resolveLinkOptions>[0] = {}): ModelLink {
  const push = (line: string): void => {
    log.push(line);
    conditions.notify();
  };
  const handlers: ModelLinkHandlers = {
    request: () => ({ url, headers: {} }),
    opened: () => l.sendSetup('setup'),
    text: (text) => (text === 'ready' ? l.handshakeDone() : push(`text ${text}`)),
    binary: () => undefined,
    sendAudio: (bytes) => l.sendText(`audio ${bytes.length}`),
    interrupted: (reason, planned) => push(`interrupted planned=${planned}`),
    restored: (planned) => push(`restored planned=${planned}`),
    lost: (error: VoicewireError) => push(`lost ${error.code}`),
  };
  const l: ModelLink = new ModelLink(resolveLinkOptions({ connectTimeoutMs: 300, reconnect: { backoffMs: 20 }, inputQueueMs: 100, heartbeatMs: 0, ...options }), handlers);
  return l;
}

describe('ModelLink', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('a provider that never answers the setup fails connect at the deadline with VW_ERR_MODEL_CONNECT (4012)', async () => {
    const conditions = new Conditions('link test');
    const p = await provider(conditions);
    cleanups.push(() => p.close());
    p.answer = false;
    const l = link(p.url, [], conditions);
    cleanups.push(() => l.close());
    await assert.rejects(l.connect(), (err) => isVoicewireError(err, 'VW_ERR_MODEL_CONNECT') && /no handshake answer within 300 ms/.test(err.message));
    assert.equal(l.linkState, 'closed');
  });

  test('while reconnecting, caller audio waits in the bounded queue (oldest dropped) and is flushed after', async () => {
    const conditions = new Conditions('link test');
    const p = await provider(conditions);
    cleanups.push(() => p.close());
    const log: string[] = [];
    const l = link(p.url, log, conditions);
    cleanups.push(() => l.close());
    await l.connect();
    p.sockets[0]!.terminate();
    await conditions.until(() => log.includes('interrupted planned=false'), 2000, 'drop seen');
    for (let i = 0; i < 10; i++) l.appendAudio(new Uint8Array(160), 20); // 200 ms into a 100 ms queue
    await conditions.until(() => log.includes('restored planned=false'), 2000, 'restored');
    await conditions.until(() => p.received[1]!.filter((f) => f.startsWith('audio')).length === 5, 2000, 'flushed');
    assert.equal(l.stats.inputDroppedMs, 100);
    assert.equal(l.stats.reconnects, 1);
  });

  test('a drop followed by refused reconnects reports lost once, with VW_ERR_MODEL_UNAVAILABLE', async () => {
    const conditions = new Conditions('link test');
    const p = await provider(conditions);
    cleanups.push(() => p.close());
    const log: string[] = [];
    const l = link(p.url, log, conditions, { reconnect: { attempts: 2, backoffMs: 10 } });
    await l.connect();
    p.refuse = true;
    p.sockets[0]!.terminate();
    await conditions.until(() => log.some((line) => line.startsWith('lost')), 3000, 'lost');
    assert.deepEqual(log, ['interrupted planned=false', 'lost VW_ERR_MODEL_UNAVAILABLE']);
    assert.equal(l.linkState, 'closed');
  });

  test('a planned switch opens a new socket at once; close() during a reconnect backoff ends the link at once', async () => {
    const conditions = new Conditions('link test');
    const p = await provider(conditions);
    cleanups.push(() => p.close());
    const log: string[] = [];
    const l = link(p.url, log, conditions, { reconnect: { backoffMs: 5000 } });
    await l.connect();
    l.switchNow('goAway');
    await conditions.until(() => log.includes('restored planned=true'), 2000, 'switched');
    assert.equal(p.sockets.length, 2);
    p.sockets[1]!.terminate();
    await conditions.until(() => log.includes('interrupted planned=false'), 2000, 'drop seen');
    l.close();
    assert.equal(l.linkState, 'closed');
    assert.deepEqual(log, ['interrupted planned=true', 'restored planned=true', 'interrupted planned=false']);
  });
});
