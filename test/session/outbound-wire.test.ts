/**
 * OutboundAudio's pump and the Twilio adapter together, as the caller sees them on the wire: the
 * pump coalesces queued pieces of one item and sentence up to `sendChunkMs`, each send is one
 * `media` message, and a periodic mark follows the message during which `markEveryMs` accumulated
 * (at its end). Exact message sequences for given deliveries, then a fast-check property over
 * random delivery sizes, sentence ends, played reports and time. The socket is a synchronous stub
 * and the clock is mocked, so nothing here waits.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutboundAudio } from '../../src/session/outbound.js';
import { EpochClock } from '../../src/flow/epoch.js';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { TwilioTransport } from '../../src/transports/twilio/adapter.js';
import { parseMarkName } from '../../src/transports/twilio/marks.js';
import type { OutboundAudio as AudioChunk } from '../../src/transports/transport.js';
import { Recorder } from '../transports/twilio/helpers.js';
import { StubSocket } from '../transports/stub-socket.js';

const STREAM = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const START = JSON.stringify({
  event: 'start', sequenceNumber: '1', streamSid: STREAM,
  start: { accountSid: 'AC25e16e9a716a4a1786a7c83f58e30482', streamSid: STREAM, callSid: 'CA2e2c1ee1a3b0d1bc8a4e0a0cf9c5c1e3', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {} },
});
const BPM = 8; // μ-law bytes per ms

type Wire = { readonly media: Uint8Array } | { readonly mark: string };

interface Rig {
  readonly out: OutboundAudio;
  readonly socket: StubSocket;
  /** The chunks the pump handed to the transport, copied. */
  readonly sends: Uint8Array[];
  wire(): Wire[];
}

function mockClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

function rig(options: { windowMs?: number; leadMs?: number; sendChunkMs?: number; startCushion?: { ms: number; holdMs: number } } = {}): Rig {
  const socket = new StubSocket();
  const sends: Uint8Array[] = [];
  const transport = new (class extends TwilioTransport {
    override sendAudio(chunk: AudioChunk): void {
      sends.push(Uint8Array.from(chunk.bytes)); // a copy, as a plain Uint8Array
      super.sendAudio(chunk);
    }
  })(socket.asWebSocket());
  transport.attach(new Recorder().events);
  socket.deliver(START);
  const out = new OutboundAudio({
    transport, format: TWILIO_FORMAT, epochs: new EpochClock(), windowMs: options.windowMs ?? 800, pausable: false,
    queueMs: 60_000, sendChunkMs: options.sendChunkMs ?? 200, playoutStallMs: 600_000, now: () => Date.now(),
    predictionLeadMs: options.leadMs ?? 0, onCap: () => assert.fail('capped'), onFatal: (e) => assert.fail(e),
    ...(options.startCushion === undefined ? {} : { startCushion: options.startCushion }),
  });
  const wire = (): Wire[] =>
    socket.sent.map((s) => {
      assert.ok('text' in s);
      const message = JSON.parse(s.text) as { event: string; media?: { payload: string }; mark?: { name: string } };
      if (message.event === 'media') return { media: new Uint8Array(Buffer.from(message.media!.payload, 'base64')) };
      assert.equal(message.event, 'mark');
      return { mark: message.mark!.name };
    });
  return { out, socket, sends, wire };
}

/** A running rig with 100 ms pieces and the default start cushion (300 ms, held at most 60). */
function cushionRig(windowMs = 800): Rig {
  const r = rig({ windowMs, sendChunkMs: 100, startCushion: { ms: 300, holdMs: 60 } });
  void r.out.run();
  return r;
}

/** `ms` of μ-law whose bytes count up from `from` (mod 256), so order and content can be checked. */
function counting(ms: number, from: number): Uint8Array {
  return Uint8Array.from({ length: ms * BPM }, (_, i) => (from + i) % 256);
}

const deliver = (out: OutboundAudio, bytes: Uint8Array, itemId = 'item', sentenceId = 0): void => {
  void out.enqueue({ responseId: 'r', itemId, sentenceId, bytes, durationMs: bytes.length / BPM });
};

/** The wire as `m<bytes>` for media and the mark's name. */
const brief = (wire: Wire[]): string[] => wire.map((w) => ('media' in w ? `m${w.media.length}` : w.mark));

describe('OutboundAudio + Twilio: messages on the wire', () => {
  test('100 ms deltas queued behind each other go out as 200 ms media, each with its mark', (t) => {
    mockClock(t);
    const r = rig();
    for (let i = 0; i < 4; i++) deliver(r.out, counting(100, i * 800));
    void r.out.run();
    assert.deepEqual(brief(r.wire()), ['m1600', 'vw:0:0:200', 'm1600', 'vw:0:1:400']);
    assert.deepEqual(Buffer.concat(r.sends.map((s) => Buffer.from(s))), Buffer.from(counting(400, 0)));
    r.out.close();
  });

  test('60 ms deltas: three fit in 200 ms; a 180 ms message is marked at its end (another would take the next mark past 250 ms)', (t) => {
    mockClock(t);
    const r = rig();
    for (let i = 0; i < 5; i++) deliver(r.out, counting(60, i * 480));
    void r.out.run();
    assert.deepEqual(brief(r.wire()), ['m1440', 'vw:0:0:180', 'm960']);
    r.out.close();
  });

  test('a delivery that finds credit goes out at once, alone: nothing waits for audio still to come', (t) => {
    mockClock(t);
    const r = rig();
    void r.out.run();
    deliver(r.out, counting(40, 0));
    assert.deepEqual(brief(r.wire()), ['m320']);
    deliver(r.out, counting(40, 64));
    assert.deepEqual(brief(r.wire()), ['m320', 'm320']);
    r.out.close();
  });

  test('another item or sentence is never merged; a sentence end ends its sentence with a mark', (t) => {
    mockClock(t);
    const r = rig();
    deliver(r.out, counting(50, 0), 'a', 0);
    deliver(r.out, counting(50, 0), 'a', 0);
    r.out.endSentence(0);
    deliver(r.out, counting(50, 0), 'a', 1);
    deliver(r.out, counting(50, 0), 'b', 1);
    void r.out.run();
    assert.deepEqual(brief(r.wire()), ['m800', 'vw:0:0:100:s0', 'm400', 'm400']);
    r.out.close();
  });

  test('pieces queued behind a held piece are merged when credit frees: one send, one credit spend', (t) => {
    mockClock(t);
    const r = rig({ windowMs: 400 });
    void r.out.run();
    deliver(r.out, counting(400, 0));
    assert.equal(r.sends.length, 2); // 2 × 200 ms: the window is full
    for (let i = 0; i < 10; i++) deliver(r.out, counting(20, i * 160));
    assert.equal(r.out.queuedMs, 200);
    r.out.played(200);
    assert.equal(r.sends.length, 3);
    assert.deepEqual(r.sends[2], counting(200, 0));
    assert.equal(r.out.credit.inFlightMs, 400);
    r.out.close();
  });

  test('pieces that arrive while a piece waits for predicted credit join it; the wake-up waits for all of them', (t) => {
    mockClock(t);
    const r = rig({ windowMs: 400, leadMs: 250 });
    void r.out.run();
    deliver(r.out, counting(400, 0));
    t.mock.timers.tick(10);
    r.out.played(10); // the model plays on from here: 10 ms of credit, +1 per ms
    deliver(r.out, counting(20, 0)); // needs 20: held
    for (let i = 1; i < 10; i++) deliver(r.out, counting(20, i * 160)); // join it: 200 held
    assert.equal(r.sends.length, 2);
    t.mock.timers.tick(189); // t = 199: 199 ms of credit
    assert.equal(r.sends.length, 2);
    t.mock.timers.tick(1);
    assert.equal(r.sends.length, 3);
    assert.deepEqual(r.sends[2], counting(200, 0));
    assert.deepEqual(brief(r.wire()).slice(4), ['m1600', 'vw:0:2:600']);
    r.out.close();
  });

  test('a dry player gets the start of an answer as one message of the cushion: 100 ms deltas wait for the third, then flow at once', (t) => {
    mockClock(t);
    const r = cushionRig();
    deliver(r.out, counting(100, 0));
    t.mock.timers.tick(20);
    deliver(r.out, counting(100, 32));
    assert.deepEqual(brief(r.wire()), []);
    assert.equal(r.out.queuedMs, 200);
    t.mock.timers.tick(20);
    deliver(r.out, counting(100, 64));
    assert.deepEqual(brief(r.wire()), ['m2400', 'vw:0:0:300']);
    assert.deepEqual(r.sends[0], Uint8Array.from([...counting(100, 0), ...counting(100, 32), ...counting(100, 64)]));
    deliver(r.out, counting(100, 96)); // the player holds 300 ms: no hold
    assert.deepEqual(brief(r.wire()), ['m2400', 'vw:0:0:300', 'm800']);
    t.mock.timers.tick(1_000); // no hold timer left to fire
    assert.equal(r.sends.length, 2);
    r.out.close();
  });

  test('the hold ends at holdMs from the first piece: what came by then goes as one message', (t) => {
    mockClock(t);
    const r = cushionRig();
    deliver(r.out, counting(100, 0));
    t.mock.timers.tick(30);
    deliver(r.out, counting(50, 32));
    t.mock.timers.tick(29);
    assert.equal(r.sends.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(brief(r.wire()), ['m1200', 'vw:0:0:150']);
    r.out.close();
  });

  test('a sentence end, another sentence or another item behind the start ends the hold at once', (t) => {
    mockClock(t);
    const ended = cushionRig();
    deliver(ended.out, counting(100, 0));
    ended.out.endSentence(0);
    assert.deepEqual(brief(ended.wire()), ['m800', 'vw:0:0:100:s0']);
    ended.out.close();
    for (const [itemId, sentenceId] of [['item', 1], ['other', 0]] as const) {
      const r = cushionRig();
      deliver(r.out, counting(100, 0));
      deliver(r.out, counting(100, 0), itemId, sentenceId);
      // The second follows at once: the player holds the first 100 ms.
      assert.deepEqual(brief(r.wire()), ['m800', 'm800', 'vw:0:0:200'], `${itemId} ${sentenceId}`);
      t.mock.timers.tick(60);
      assert.equal(r.sends.length, 2);
      r.out.close();
    }
  });

  test('a player that ran dry mid-answer gets a cushion again; a barge-in during the hold sends nothing and leaves no timer', (t) => {
    mockClock(t);
    const r = cushionRig();
    deliver(r.out, counting(300, 0));
    assert.deepEqual(brief(r.wire()), ['m2400', 'vw:0:0:300']);
    r.out.played(300); // dry
    deliver(r.out, counting(100, 0));
    assert.equal(r.sends.length, 1);
    t.mock.timers.tick(60);
    assert.deepEqual(brief(r.wire()).slice(2), ['m800']);
    r.out.played(400); // dry again
    deliver(r.out, counting(100, 0));
    r.out.dropAll(Date.now());
    t.mock.timers.tick(1_000);
    assert.equal(r.sends.length, 2);
    assert.equal(r.out.queuedMs, 0);
    r.out.close();
  });

  test('the cushion is at most half the window (credit covers it at once)', (t) => {
    mockClock(t);
    const r = cushionRig(400);
    deliver(r.out, counting(100, 0));
    deliver(r.out, counting(100, 32));
    assert.deepEqual(brief(r.wire()), ['m1600', 'vw:0:0:200']);
    r.out.close();
  });

  test('property: within credit, bytes in order, one media message per send, marks at most markEveryMs + one send apart', (t) => {
    mockClock(t);
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ deliver: fc.integer({ min: 1, max: 3_000 }), next: fc.constantFrom('same', 'same', 'same', 'sentence', 'item') }) },
      { weight: 1, arbitrary: fc.record({ end: fc.constant(true) }) },
      { weight: 3, arbitrary: fc.record({ play: fc.integer({ min: 0, max: 500 }) }) },
      { weight: 3, arbitrary: fc.record({ tick: fc.integer({ min: 1, max: 400 }) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 50 }), fc.integer({ min: 200, max: 1_200 }), fc.constantFrom(0, 250), fc.constantFrom(100, 160, 200, 240), fc.constantFrom(0, 150, 300), fc.constantFrom(0, 60), (steps, window, leadMs, sendChunkMs, cushionMs, holdMs) => {
        const windowMs = Math.max(window, sendChunkMs); // a piece never exceeds the window (CREDIT_WINDOW_MS ≥ 200)
        const r = rig({ windowMs, leadMs, sendChunkMs, startCushion: { ms: cushionMs, holdMs } });
        try {
          void r.out.run();
          let item = 0;
          let sentence = 0;
          let played = 0;
          const delivered: number[] = [];
          /** Byte index where each (item, sentence) run starts: a send never spans two. */
          const runStarts = new Set<number>([0]);
          for (const s of steps) {
            if ('deliver' in s) {
              if (s.next !== 'same' && delivered.length > 0) {
                if (s.next === 'item') item++;
                else sentence++;
                runStarts.add(delivered.length);
              }
              const bytes = Uint8Array.from({ length: s.deliver }, (_, i) => (delivered.length + i) % 251);
              for (const b of bytes) delivered.push(b);
              deliver(r.out, bytes, `i${item}`, sentence);
            } else if ('end' in s) {
              r.out.endSentence(sentence);
              sentence++;
              runStarts.add(delivered.length);
            } else if ('play' in s) {
              played = Math.min(r.out.playedMs + s.play, sentMs(r.sends));
              r.out.played(played);
            } else {
              t.mock.timers.tick(s.tick);
            }
            // Within credit: the gate's window, and the caller's buffer by its reports (+ the lead).
            assert.ok(r.out.credit.inFlightMs <= windowMs + 1e-9);
            assert.ok(sentMs(r.sends) - played <= windowMs + leadMs + 1e-9, `caller may hold ${sentMs(r.sends) - played} ms`);
          }
          // The caller plays everything: all of it goes out.
          for (let i = 0; i < 200 && r.out.queuedMs > 0; i++) {
            t.mock.timers.tick(1_000);
            r.out.played((played = sentMs(r.sends)));
          }
          assert.equal(r.out.queuedMs, 0);
          // A send is one piece, or the cushion of a dry player (at most half the window).
          checkWire(r, delivered, runStarts, Math.max(sendChunkMs, Math.min(cushionMs, Math.floor(windowMs / 2))));
        } finally {
          r.out.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

function sentMs(sends: Uint8Array[]): number {
  let bytes = 0;
  for (const s of sends) bytes += s.length;
  return bytes / BPM;
}

/** Order, bytes, one media message per send, coalescing bounds, and mark spacing and positions. */
function checkWire(r: Rig, delivered: number[], runStarts: Set<number>, longestSendMs: number): void {
  const wire = r.wire();
  const media = wire.flatMap((w) => ('media' in w ? [w.media] : []));
  assert.deepEqual(Buffer.concat(media.map((m) => Buffer.from(m))), Buffer.from(delivered), 'bytes and order');
  assert.equal(media.length, r.sends.length, 'one media message per send: no mark split one');
  media.forEach((m, i) => assert.deepEqual(m, r.sends[i]));
  let offset = 0;
  for (const send of r.sends) {
    assert.ok(send.length >= 1 && send.length <= longestSendMs * BPM, `a send of ${send.length} bytes`);
    for (let k = offset + 1; k < offset + send.length; k++) assert.ok(!runStarts.has(k), `a send spans two items or sentences at ${k}`);
    offset += send.length;
  }
  const every = 200 * BPM;
  let sinceMark = 0;
  let position = 0;
  let lastMessage = 0;
  for (const [i, w] of wire.entries()) {
    if ('media' in w) {
      // A due mark is never late: the message after the one that filled the interval (or after one
      // that another like it would take 25 % past the interval) is a mark.
      assert.ok(sinceMark < every && sinceMark + lastMessage <= every * 1.25, `${sinceMark} bytes unmarked before message ${i}`);
      sinceMark += w.media.length;
      position += w.media.length;
      lastMessage = w.media.length;
      continue;
    }
    const info = parseMarkName(w.mark);
    assert.ok(info !== undefined);
    assert.equal(info.positionMs, Math.floor(position / BPM));
    if (info.sentenceId === undefined) {
      // Periodic: right after the message during which the interval filled (or after which another
      // like it would pass 1.25 intervals), so at most one interval + that message apart.
      const due = sinceMark >= every || sinceMark + lastMessage > every * 1.25;
      assert.ok(due && sinceMark - lastMessage < every, `periodic mark after ${sinceMark} bytes (last message ${lastMessage})`);
    }
    sinceMark = 0;
    lastMessage = 0;
  }
}
