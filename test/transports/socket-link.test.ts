import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, on, once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { vwError, type VoicewireError } from '../../src/errors.js';
import {
  SocketLink,
  closeReason,
  rawBytes,
  rawLength,
  rawText,
  type LinkMoves,
  type SocketLinkOptions,
  type TransportLogger,
} from '../../src/transports/socket-link.js';
import type { TransportEvents } from '../../src/transports/transport.js';

type Phase = 'waiting' | 'live';
const MOVES: LinkMoves<Phase> = { waiting: ['live'], live: [] };

/** Everything the link reported, in order, as short strings. */
class Trace {
  readonly entries: string[] = [];
  readonly audio: Uint8Array[] = [];
  private readonly emitter = new EventEmitter();

  readonly events: TransportEvents = {
    start: (info) => this.push(`start ${info.callId}`),
    audio: (bytes, durationMs) => {
      this.audio.push(bytes);
      this.push(`audio ${bytes.length}b ${durationMs}ms`);
    },
    played: (epoch, ms) => this.push(`played ${epoch} ${ms}`),
    sentencePlayed: (epoch, id) => this.push(`sentencePlayed ${epoch} ${id}`),
    dtmf: (digit) => this.push(`dtmf ${digit}`),
    badInput: (error) => this.push(`badInput ${error.code}`),
    closed: (code, reason, error) => this.push(`closed ${code} ${reason} ${error?.code ?? '-'}`),
  };

  push(entry: string): void {
    this.entries.push(entry);
    this.emitter.emit('entry');
  }

  /** Resolves once `check()` holds (re-checked on every entry); rejects at the deadline. */
  async until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
    if (check()) return;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      for await (const _entry of on(this.emitter, 'entry', { signal })) if (check()) return;
    } catch (err) {
      if (!signal.aborted) throw err;
      throw new Error(`${what} not within ${timeoutMs} ms; trace: ${this.entries.join(' | ')}`);
    }
  }
}

interface Pair {
  readonly link: SocketLink<Phase>;
  readonly trace: Trace;
  /** The server side, owned by the link. */
  readonly server: WebSocket;
  /** The peer, with what it received. */
  readonly client: WebSocket;
  readonly received: Array<{ text?: string; binary?: Uint8Array }>;
  readonly peerClosed: Promise<{ code: number; reason: string }>;
  readonly answers: string[];
  readonly logged: Array<{ level: string; msg: string }>;
  /** Calls of `onClosing`. */
  readonly closings: { count: number };
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const listening = once(wss, 'listening');
after(() => {
  for (const client of wss.clients) client.terminate();
  wss.close();
});

async function pair(options: Partial<SocketLinkOptions<Phase>> = {}): Promise<Pair> {
  await within(listening, 'listening');
  const { port } = wss.address() as { port: number };
  const connection = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  const received: Pair['received'] = [];
  client.on('message', (data: Buffer, isBinary: boolean) => {
    received.push(isBinary ? { binary: new Uint8Array(data) } : { text: data.toString('utf8') });
    trace.push('peer got message');
  });
  const peerClosed = new Promise<{ code: number; reason: string }>((resolve) => {
    client.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  client.on('error', () => undefined);
  const [server] = await within(connection, 'connection');
  await within(once(client, 'open'), 'open');
  const trace = new Trace();
  const answers: string[] = [];
  const logged: Pair['logged'] = [];
  const logger: TransportLogger = {
    debug: (_o, msg) => logged.push({ level: 'debug', msg: msg ?? '' }),
    info: (_o, msg) => logged.push({ level: 'info', msg: msg ?? '' }),
    warn: (_o, msg) => logged.push({ level: 'warn', msg: msg ?? '' }),
    error: (_o, msg) => logged.push({ level: 'error', msg: msg ?? '' }),
  };
  const closings = { count: 0 };
  const link = new SocketLink<Phase>(server, {
    label: 'test',
    owner: 'TestTransport',
    initial: 'waiting',
    moves: MOVES,
    logger,
    logContext: () => ({ id: 'c1' }),
    failReason: 'code',
    onMessage: (data: RawData, isBinary: boolean) => trace.push(`message ${isBinary ? 'binary' : rawText(data)}`),
    answer: (error: VoicewireError, detail: string | undefined) => answers.push(`${error.code} ${detail ?? '-'}`),
    onClosing: () => closings.count++,
    ...options,
  });
  return { link, trace, server, client, received, peerClosed, answers, logged, closings };
}

/** `promise`, or a rejection naming `what` after `timeoutMs`: no wait in these tests is open-ended. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 3_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const closedEntries = (trace: Trace): string[] => trace.entries.filter((e) => e.startsWith('closed'));

describe('SocketLink: before and at attach', () => {
  test('reading is paused until attach; events raised before it are delivered in order, then messages', async () => {
    const p = await pair();
    assert.equal(p.server.isPaused, true);
    p.link.emit((events) => events.dtmf('1'));
    p.link.emit((events) => events.played(0, 20));
    p.client.send('hello');
    assert.deepEqual(p.trace.entries, []);
    p.link.attach(p.trace.events);
    assert.equal(p.server.isPaused, false);
    await p.trace.until(() => p.trace.entries.includes('message hello'), 'the message');
    assert.deepEqual(p.trace.entries, ['dtmf 1', 'played 0 20', 'message hello']);
    p.client.close();
  });

  test('the queue before attach is bounded: past maxPendingEvents events are dropped and logged', async () => {
    const p = await pair({ maxPendingEvents: 3 });
    for (const digit of ['1', '2', '3', '4', '5']) p.link.emit((events) => events.dtmf(digit));
    p.link.attach(p.trace.events);
    assert.deepEqual(p.trace.entries, ['dtmf 1', 'dtmf 2', 'dtmf 3']);
    assert.equal(p.logged.filter((l) => l.level === 'error' && l.msg.includes('pending queue full')).length, 2);
    p.client.close();
  });

  test('emitAudio queues a copy before attach and passes the bytes themselves after it', async () => {
    const p = await pair();
    const reused = new Uint8Array([1, 2, 3, 4]);
    p.link.emitAudio(reused, 0.5);
    reused.fill(9);
    p.link.attach(p.trace.events);
    assert.deepEqual([...p.trace.audio[0]!], [1, 2, 3, 4]);
    p.link.emitAudio(reused, 0.5);
    assert.equal(p.trace.audio[1], reused);
    assert.deepEqual(p.trace.entries, ['audio 4b 0.5ms', 'audio 4b 0.5ms']);
    p.client.close();
  });

  test('attach twice throws, naming the owner', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    assert.throws(() => p.link.attach(p.trace.events), /TestTransport\.attach called twice/);
    p.client.close();
  });

  test('a link closed before attach stays paused and reports closed on attach', async () => {
    const p = await pair();
    p.link.close(4010, 'gone');
    p.link.attach(p.trace.events);
    assert.equal(p.server.isPaused, true);
    assert.deepEqual(p.trace.entries, ['closed 4010 gone -']);
    // Still paused, the server cannot read the peer's closing handshake: end the peer here.
    p.client.terminate();
  });
});

describe('SocketLink: sending', () => {
  test('strings go out as text and bytes as binary', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    assert.equal(p.link.send('{"a":1}'), true);
    assert.equal(p.link.send(new Uint8Array([7, 8])), true);
    await p.trace.until(() => p.received.length === 2, 'both messages');
    assert.deepEqual(p.received, [{ text: '{"a":1}' }, { binary: new Uint8Array([7, 8]) }]);
    assert.equal(p.link.sendsDropped, 0);
    p.client.close();
  });

  test('sends after close are dropped and counted, never thrown; dropSend counts with them', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    p.link.close(1000, 'done');
    assert.equal(p.link.send('late'), false);
    assert.equal(p.link.send(new Uint8Array(2)), false);
    p.link.dropSend({ action: 'x' }, 'not ready');
    assert.equal(p.link.sendsDropped, 3);
    await within(p.peerClosed, 'peer close');
    assert.deepEqual(p.received, []);
  });

  test('bufferedAmount is the socket bufferedAmount', async () => {
    const p = await pair();
    assert.equal(p.link.bufferedAmount(), p.server.bufferedAmount);
    p.client.close();
  });
});

describe('SocketLink: closing once', () => {
  test('close() sends the code with a reason trimmed to 123 bytes; closed is raised once with the full reason', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    const long = 'é'.repeat(100);
    const serverClosed = once(p.server, 'close');
    p.link.close(4010, long);
    p.link.close(1000, 'again');
    const peer = await within(p.peerClosed, 'peer close');
    assert.equal(peer.code, 4010);
    assert.equal(peer.reason, 'é'.repeat(61));
    await within(serverClosed, 'server close');
    assert.deepEqual(closedEntries(p.trace), [`closed 4010 ${long} -`]);
    assert.equal(p.closings.count, 1);
    assert.equal(p.link.state, 'closed');
  });

  test('an invalid close code terminates the socket and is still reported once', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    const serverClosed = once(p.server, 'close');
    p.link.close(999, 'bad code');
    assert.equal((await within(p.peerClosed, 'peer close')).code, 1006);
    await within(serverClosed, 'server close');
    assert.deepEqual(closedEntries(p.trace), ['closed 999 bad code -']);
    assert.ok(p.logged.some((l) => l.level === 'warn' && l.msg.includes('terminating')));
  });

  test('a peer that closes cleanly is reported without an error, once', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    p.client.close(1000, 'bye');
    await p.trace.until(() => closedEntries(p.trace).length === 1, 'closed');
    p.link.close(1000, 'after');
    assert.deepEqual(closedEntries(p.trace), ['closed 1000 bye -']);
    assert.equal(p.closings.count, 1);
  });

  test('any other peer close carries VW_ERR_CLOSED', async () => {
    for (const end of [(c: WebSocket) => c.close(4000, 'app'), (c: WebSocket) => c.terminate()]) {
      const p = await pair();
      p.link.attach(p.trace.events);
      end(p.client);
      await p.trace.until(() => closedEntries(p.trace).length === 1, 'closed');
      assert.match(closedEntries(p.trace)[0]!, /^closed (4000 app|1006 ) VW_ERR_CLOSED$/);
    }
  });

  test('messages that arrive once the link is closed are not passed on', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    p.server.emit('message', Buffer.from('before'), false);
    p.link.close(1000, 'done');
    p.server.emit('message', Buffer.from('after'), false);
    assert.deepEqual(p.trace.entries, ['message before', 'closed 1000 done -']);
    await within(p.peerClosed, 'peer close');
  });
});

describe('SocketLink: bad input', () => {
  test('each malformed message is answered and reported; past maxBadInputs it closes with 4003', async () => {
    const p = await pair({ maxBadInputs: 2 });
    p.link.attach(p.trace.events);
    for (let i = 0; i < 3; i++) p.link.reject(vwError('VW_ERR_BAD_JSON'), `d${i}`);
    assert.deepEqual(p.trace.entries, ['badInput VW_ERR_BAD_JSON', 'badInput VW_ERR_BAD_JSON', 'closed 4003 VW_ERR_TOO_MANY_BAD_INPUTS VW_ERR_TOO_MANY_BAD_INPUTS']);
    assert.deepEqual(p.answers, ['VW_ERR_BAD_JSON d0', 'VW_ERR_BAD_JSON d1', 'VW_ERR_TOO_MANY_BAD_INPUTS -']);
    assert.equal(p.link.badInputs, 3);
    assert.deepEqual(await within(p.peerClosed, 'peer close'), { code: 4003, reason: 'VW_ERR_TOO_MANY_BAD_INPUTS' });
  });

  test('failReason "message" closes with the error message; an error without a close code gets 1011', async () => {
    const p = await pair({ failReason: 'message' });
    p.link.attach(p.trace.events);
    const error = vwError('VW_ERR_BAD_JSON');
    p.link.fail(error);
    assert.deepEqual(await within(p.peerClosed, 'peer close'), { code: 1011, reason: error.message });
    assert.deepEqual(closedEntries(p.trace), [`closed 1011 ${error.message} VW_ERR_BAD_JSON`]);
  });
});

describe('SocketLink: state', () => {
  test('only the moves of the table are allowed; closing leaves any phase and nothing leaves closed', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    assert.equal(p.link.state, 'waiting');
    assert.throws(() => p.link.enter('waiting'), /TestTransport: no move from waiting to waiting/);
    p.link.enter('live');
    assert.equal(p.link.state, 'live');
    assert.throws(() => p.link.enter('live'), /no move from live to live/);
    p.link.close(1000, 'end');
    assert.equal(p.link.state, 'closed');
    assert.throws(() => p.link.enter('live'), /no move from closed to live/);
    await within(p.peerClosed, 'peer close');
  });
});

describe('SocketLink: start deadline', () => {
  test('a link still in its initial phase after startTimeoutMs fails with 4020 VW_ERR_START_TIMEOUT', async () => {
    const p = await pair({ startTimeoutMs: 100 });
    p.link.attach(p.trace.events);
    const { code } = await within(p.peerClosed, 'peer close');
    assert.equal(code, 4020);
    assert.deepEqual(closedEntries(p.trace), ['closed 4020 VW_ERR_START_TIMEOUT VW_ERR_START_TIMEOUT']);
    assert.equal(p.closings.count, 1);
  });

  test('leaving the initial phase in time stops the deadline: the link stays open past it', async () => {
    const p = await pair({ startTimeoutMs: 100 });
    p.link.attach(p.trace.events);
    p.link.enter('live');
    // Proving that a timer did not fire has no event to wait for: wait past the deadline, then
    // show that a message still arrives on the open link.
    await delay(300);
    p.client.send('still here');
    await p.trace.until(() => p.trace.entries.includes('message still here'), 'the late message');
    assert.equal(p.link.state, 'live');
    assert.deepEqual(closedEntries(p.trace), []);
  });

  test('without startTimeoutMs the link sets no deadline of its own', async () => {
    const p = await pair();
    p.link.attach(p.trace.events);
    await delay(200); // an absence again: no deadline fires
    assert.equal(p.link.state, 'waiting');
    assert.deepEqual(closedEntries(p.trace), []);
  });
});

describe('closeReason', () => {
  test('is the longest prefix of at most 123 bytes of UTF-8', () => {
    const mixed = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800', ' '), maxLength: 200, size: 'max' });
    // A long ASCII head puts the 123-byte boundary anywhere in what follows.
    const asciiHead = fc.tuple(fc.string({ unit: fc.constantFrom('a', ' '), minLength: 100, maxLength: 130, size: 'max' }), mixed).map(([head, tail]) => head + tail);
    fc.assert(
      fc.property(fc.oneof(mixed, asciiHead), (text) => {
        const reason = closeReason(text);
        // Messages given: without one, a failing assert.ok re-reads the test's source at every shrink step.
        assert.ok(text.startsWith(reason), 'a prefix');
        assert.ok(Buffer.byteLength(reason) <= 123, 'at most 123 bytes');
        if (Buffer.byteLength(text) <= 123) assert.equal(reason, text, 'a short text is kept whole');
        else assert.ok(Buffer.byteLength(text.slice(0, reason.length + 1)) > 123 || reason.length === 123, 'the longest such prefix');
      }),
    );
  });
});

describe('raw data helpers', () => {
  test('a message gives the same bytes, length and text whole, as an ArrayBuffer, or in fragments', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const whole = Buffer.from(bytes);
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
        const fragments = [0, ...points].map((start, i) => whole.subarray(start, [...points, bytes.length][i]));
        const arrayBuffer = bytes.slice().buffer;
        for (const shape of [whole, arrayBuffer, fragments]) {
          assert.deepEqual(new Uint8Array(rawBytes(shape)), bytes);
          assert.equal(rawLength(shape), bytes.length);
          assert.equal(rawText(shape), whole.toString('utf8'));
        }
      }),
    );
  });
});
