import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeTwilioCaller, toneSamples } from './twilio-caller.js';

/** What the tiny server saw on one connection, with a way to wait for it. */
interface Peer {
  readonly ws: WebSocket;
  readonly messages: Array<{ at: number; binary: boolean; text: string; json: Record<string, unknown> | undefined }>;
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>;
  media(bytes: Uint8Array, streamSid: string): void;
  mark(name: string, streamSid: string): void;
}

const servers: WebSocketServer[] = [];
after(() => {
  for (const wss of servers) wss.close();
});

async function server(): Promise<{ url: string; nextPeer: () => Promise<Peer> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  servers.push(wss);
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const nextPeer = async (): Promise<Peer> => {
    const [ws] = (await once(wss, 'connection')) as [WebSocket];
    const messages: Peer['messages'] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data: Buffer, binary: boolean) => {
      const text = data.toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = binary ? undefined : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      messages.push({ at: performance.now(), binary, text, json });
      for (const w of waiters) w();
    });
    return {
      ws,
      messages,
      waitFor: (check, timeoutMs = 5000) =>
        new Promise<void>((resolve, reject) => {
          if (check()) return resolve();
          const timer = setTimeout(() => {
            waiters.delete(poll);
            reject(new Error('server: condition not met in time'));
          }, timeoutMs);
          const poll = (): void => {
            if (!check()) return;
            clearTimeout(timer);
            waiters.delete(poll);
            resolve();
          };
          waiters.add(poll);
        }),
      media: (bytes, streamSid) => ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(bytes).toString('base64') } })),
      mark: (name, streamSid) => ws.send(JSON.stringify({ event: 'mark', streamSid, mark: { name } })),
    };
  };
  return { url: `ws://127.0.0.1:${port}/twilio/media`, nextPeer };
}

async function call(options: Parameters<typeof FakeTwilioCaller.connect>[1] = {}): Promise<{ caller: FakeTwilioCaller; peer: Peer }> {
  const { url, nextPeer } = await server();
  const peerPromise = nextPeer();
  const caller = await FakeTwilioCaller.connect(url, options);
  return { caller, peer: await peerPromise };
}

const events = (peer: Peer, name: string): Array<Record<string, unknown>> =>
  peer.messages.flatMap((m) => (m.json?.['event'] === name ? [m.json] : []));
const echoNames = (peer: Peer): string[] => events(peer, 'mark').map((m) => (m['mark'] as { name: string }).name);
const audio = (ms: number): Uint8Array => new Uint8Array(ms * 8).fill(0x55);

void describe('FakeTwilioCaller', () => {
  void test('opens with connected and start as Twilio documents them', async () => {
    const { caller, peer } = await call({ customParameters: { lang: 'en' } });
    await peer.waitFor(() => events(peer, 'media').length >= 1);
    const [connected, start] = peer.messages.map((m) => m.json);
    assert.deepEqual(connected, { event: 'connected', protocol: 'Call', version: '1.0.0' });
    assert.equal(start?.['event'], 'start');
    assert.equal(start?.['sequenceNumber'], '1');
    assert.equal(start?.['streamSid'], caller.streamSid);
    assert.match(caller.streamSid, /^MZ[0-9a-f]{32}$/);
    assert.match(caller.callSid, /^CA[0-9a-f]{32}$/);
    assert.deepEqual(start?.['start'], {
      accountSid: caller.accountSid,
      streamSid: caller.streamSid,
      callSid: caller.callSid,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { lang: 'en' },
    });
    await caller.stop();
  });

  void test('streams 20 ms silence frames with digit-string counters, never faster than real time', async () => {
    const { caller, peer } = await call();
    await peer.waitFor(() => events(peer, 'media').length >= 25);
    const media = peer.messages.filter((m) => m.json?.['event'] === 'media');
    media.slice(0, 25).forEach((m, i) => {
      const body = m.json?.['media'] as Record<string, string>;
      assert.equal(m.json?.['sequenceNumber'], String(i + 2));
      assert.equal(body['chunk'], String(i + 1));
      assert.equal(body['timestamp'], String(i * 20));
      assert.equal(body['track'], 'inbound');
      assert.deepEqual(Buffer.from(body['payload'] ?? '', 'base64'), Buffer.alloc(160, 0xff));
    });
    // Frames are due on an absolute 20 ms grid: frame k is never sent before k × 20 ms of stream.
    const first = media[0]!.at;
    media.slice(0, 25).forEach((m, i) => assert.ok(m.at - first >= i * 20 - 25, `frame ${i + 1} early by ${i * 20 - (m.at - first)} ms`));
    await caller.stop();
  });

  void test('keeps exactly 8000 samples/s on its own clock (frames sent = elapsed / 20 ms)', async () => {
    const { caller } = await call();
    let worst = 0;
    // Checked after every tick: the frames sent must equal the frames due on the absolute grid.
    await caller.waitUntil(() => {
      const due = Math.floor((caller.now() - (caller.streamStartedAt ?? 0)) / 20);
      worst = Math.max(worst, Math.abs(due - caller.framesSent));
      return caller.framesSent >= 50;
    }, 5000);
    assert.ok(worst <= 1, `frame count strayed ${worst} frames from the clock`);
    await caller.stop();
  });

  void test('speaks a buffer as μ-law frames at real-time pace, then returns to silence', async () => {
    const { caller, peer } = await call();
    const tone = toneSamples(100);
    const silence = Buffer.alloc(160, 0xff);
    const payloads = (): Buffer[] => events(peer, 'media').map((m) => Buffer.from((m['media'] as { payload: string }).payload, 'base64'));
    await caller.sendSpeech(tone);
    // Done once a silence frame follows the speech.
    await peer.waitFor(() => {
      const all = payloads();
      const lastSpoken = all.findLastIndex((p) => !p.equals(silence));
      return lastSpoken >= 0 && lastSpoken < all.length - 1;
    });
    const spoken = payloads().filter((p) => !p.equals(silence));
    assert.equal(spoken.length, 5);
    assert.deepEqual(Buffer.concat(spoken), Buffer.from(alawmulaw.mulaw.encode(tone)));
    await caller.stop();
  });

  void test('echoes marks in order, each once the audio before it has played', async () => {
    const { caller, peer } = await call();
    peer.media(audio(100), caller.streamSid);
    peer.mark('A', caller.streamSid);
    peer.media(audio(100), caller.streamSid);
    peer.mark('B', caller.streamSid);
    await peer.waitFor(() => echoNames(peer).length === 2);
    assert.deepEqual(echoNames(peer), ['A', 'B']);
    const [a, b] = caller.echoes.toArray();
    assert.equal(a?.cause, 'played');
    assert.equal(a?.playedMs, 100);
    assert.equal(b?.playedMs, 200);
    assert.ok((b?.dueAt ?? 0) - (a?.dueAt ?? 0) >= 100 - 1e-6);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  void test('a mark that played while the process stalled is echoed behind the frames due before it played, not all of them', async () => {
    const { caller, peer } = await call();
    try {
      peer.media(audio(100), caller.streamSid);
      peer.mark('A', caller.streamSid);
      await caller.waitUntil(() => caller.received.toArray().some((r) => r.event === 'mark'), 5000);
      // Starve the process for 300 ms (as a loaded machine does): the mark plays 100 ms into it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      await peer.waitFor(() => echoNames(peer).length === 1);
      await peer.waitFor(() => peer.messages.filter((m) => m.json?.event === 'media').length >= caller.framesSent);
      const [echo] = caller.echoes.toArray();
      const framesBeforeEcho = peer.messages.findIndex((m) => m.json?.event === 'mark');
      const mediaBeforeEcho = peer.messages.slice(0, framesBeforeEcho).filter((m) => m.json?.event === 'media').length;
      assert.equal(mediaBeforeEcho, Math.floor((echo!.dueAt - caller.clockStartedAt!) / 20), 'the frames due when it played');
      assert.ok(caller.framesSent - mediaBeforeEcho >= 8, 'the stall\'s later frames come after the echo');
    } finally {
      await caller.stop();
    }
  });

  void test('echoes a mark at once when nothing is buffered', async () => {
    const { caller, peer } = await call();
    peer.mark('idle', caller.streamSid);
    await peer.waitFor(() => echoNames(peer).length === 1);
    const [echo] = caller.echoes.toArray();
    assert.equal(echo?.playedMs, 0);
    assert.ok((echo?.at ?? Infinity) - (caller.received.last()?.at ?? 0) < 5);
    await caller.stop();
  });

  void test('a clear empties the buffer and echoes every pending mark at once', async () => {
    const { caller, peer } = await call();
    for (const name of ['m1', 'm2', 'm3', 'm4']) {
      peer.media(audio(500), caller.streamSid);
      peer.mark(name, caller.streamSid);
    }
    await caller.waitUntil(() => caller.bufferedMs > 1500, 5000);
    peer.ws.send(JSON.stringify({ event: 'clear', streamSid: caller.streamSid }));
    await peer.waitFor(() => echoNames(peer).length === 4);
    assert.deepEqual(echoNames(peer), ['m1', 'm2', 'm3', 'm4']);
    const flushed = caller.echoesBy('clear');
    assert.ok(flushed.length >= 3, `${flushed.length} flushed`);
    assert.equal(caller.clears.length, 1);
    assert.equal(caller.clears.toArray()[0]?.flushedMarks, flushed.length);
    assert.ok(caller.playedMs < 2000);
    assert.equal(caller.bufferedMs, 0);
    assert.ok(Math.abs(caller.playedMs + caller.clearedMs - 2000) < 1e-6);
    await caller.stop();
  });

  void test('records underruns and heardSince from its real-time player', async () => {
    const { caller, peer } = await call();
    peer.media(audio(60), caller.streamSid);
    peer.mark('end', caller.streamSid);
    await peer.waitFor(() => echoNames(peer).length === 1);
    const t = caller.now();
    peer.media(audio(40), caller.streamSid);
    peer.mark('end2', caller.streamSid);
    await peer.waitFor(() => echoNames(peer).length === 2);
    const [dry] = caller.underruns;
    assert.ok(dry !== undefined && dry.end !== undefined && dry.end >= dry.start);
    assert.equal(caller.playedMs, 100);
    assert.ok(Math.abs(caller.heardSince(t) - 40) < 1e-6);
    assert.equal(caller.maxBufferedMs >= 40, true);
    await caller.stop();
  });

  void test('reports messages Twilio would reject as violations and does not act on them', async () => {
    const { caller, peer } = await call();
    peer.ws.send(JSON.stringify({ event: 'media', streamSid: 'MZwrong', media: { payload: '/w==' } }));
    peer.ws.send(JSON.stringify({ event: 'media', streamSid: caller.streamSid, media: { payload: '/w==', track: 'outbound' } }));
    peer.ws.send(JSON.stringify({ event: 'media', streamSid: caller.streamSid, media: { payload: 'not base64!' } }));
    peer.ws.send(JSON.stringify({ event: 'hangup', streamSid: caller.streamSid }));
    peer.ws.send('{oops');
    peer.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await caller.waitUntil(() => caller.violations.length === 6, 5000);
    assert.deepEqual(
      caller.violations.toArray().map((v) => v.kind),
      ['wrong-stream', 'bad-fields', 'bad-base64', 'unknown-event', 'bad-json', 'binary-frame'],
    );
    assert.equal(caller.playedMs + caller.bufferedMs, 0);
    await caller.stop();
  });

  void test('a caller that stops reading makes the server buffer, and catches up when resumed', async () => {
    const { caller, peer } = await call({ readPaused: true });
    const chunk = audio(1000);
    let sent = 0;
    // Send until ws itself holds data: the kernel buffers are full, the peer is not reading.
    while (peer.ws.bufferedAmount === 0 && sent < 4000) {
      peer.media(chunk, caller.streamSid);
      sent++;
      if (sent % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(peer.ws.bufferedAmount > 0, 'server never had to buffer');
    assert.ok(caller.received.total < sent);
    caller.resumeReading();
    await caller.waitUntil(() => caller.received.total === sent, 20_000, 'all media received');
    assert.equal(caller.violations.toArray().filter((v) => v.kind !== 'buffer-overflow').length, 0);
    caller.terminate();
  });

  void test('stop() sends stop and closes normally; raw text and binary can be injected', async () => {
    const { caller, peer } = await call();
    caller.sendRaw('garbage');
    caller.sendBinary(Uint8Array.from([9, 9]));
    caller.sendDtmf('5');
    await peer.waitFor(() => peer.messages.some((m) => m.binary));
    const closed = once(peer.ws, 'close');
    await caller.stop();
    const [code] = (await closed) as [number];
    assert.equal(code, 1000);
    assert.ok(peer.messages.some((m) => m.text === 'garbage'));
    const stop = events(peer, 'stop')[0];
    assert.deepEqual(stop?.['stop'], { accountSid: caller.accountSid, callSid: caller.callSid });
    assert.deepEqual(events(peer, 'dtmf')[0]?.['dtmf'], { track: 'inbound_track', digit: '5' });
    assert.equal(caller.isOpen, false);
    await assert.rejects(caller.sendSpeech(toneSamples(20)));
  });

  void test('a refused upgrade rejects connect with the status code', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => cb(false, 403) });
    servers.push(wss);
    await once(wss, 'listening');
    const { port } = wss.address() as { port: number };
    await assert.rejects(FakeTwilioCaller.connect(`ws://127.0.0.1:${port}/`), (err: Error & { statusCode?: number }) => err.statusCode === 403);
  });
});
