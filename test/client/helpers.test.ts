import { describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelay } from '../../client/src/backoff.js';
import { IntervalMeter } from '../../client/src/interval-meter.js';
import { OutboundQueue, type SocketLike } from '../../client/src/outbound-queue.js';
import { Emitter } from '../../client/src/emitter.js';
import { Pinger } from '../../client/src/pinger.js';

class FakeSocket implements SocketLike {
  bufferedAmount = 0;
  readonly sent: number[] = [];
  send(data: Uint8Array<ArrayBuffer>): void {
    this.sent.push(data[0]!);
    this.bufferedAmount += data.length;
  }
}

function frame(id: number, size = 100): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(size);
  f[0] = id;
  return f;
}

describe('backoffDelay', () => {
  test('doubles from the base up to the cap, with jitter in the upper half', () => {
    assert.equal(backoffDelay(0, { baseMs: 100 }, () => 0), 50);
    assert.equal(backoffDelay(0, { baseMs: 100 }, () => 0.999999), 99.9999500);
    assert.equal(backoffDelay(3, { baseMs: 100 }, () => 0), 400);
    assert.equal(backoffDelay(50, { baseMs: 100, maxMs: 5000 }, () => 0.5), 3750);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(attempt, {}, () => r);
        assert.ok(d >= 125 && d <= 10_000);
      }),
    );
  });
});

describe('OutboundQueue (mic frames)', () => {
  test('drops the oldest frame when full', () => {
    const queue = new OutboundQueue({ maxFrames: 3, maxSocketBufferedBytes: 1000 });
    for (let i = 1; i <= 5; i++) queue.push(frame(i));
    assert.equal(queue.length, 3);
    assert.equal(queue.dropped, 2);
    const socket = new FakeSocket();
    queue.flush(socket);
    assert.deepEqual(socket.sent, [3, 4, 5]);
  });

  test('sends only while the socket buffer is under the threshold, and resumes later', () => {
    const queue = new OutboundQueue({ maxFrames: 10, maxSocketBufferedBytes: 250 });
    for (let i = 1; i <= 5; i++) queue.push(frame(i));
    const socket = new FakeSocket();
    assert.equal(queue.flush(socket), 3);
    assert.deepEqual(socket.sent, [1, 2, 3]);
    socket.bufferedAmount = 0;
    assert.equal(queue.flush(socket), 2);
    assert.equal(queue.sent, 5);
  });

  test('never holds more than maxFrames whatever the socket does', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('push'), fc.constant('flush'), fc.constant('drain')), { maxLength: 200 }), (ops) => {
        const queue = new OutboundQueue({ maxFrames: 4, maxSocketBufferedBytes: 300 });
        const socket = new FakeSocket();
        let pushed = 0;
        for (const op of ops) {
          if (op === 'push') queue.push(frame(pushed++ % 256));
          else if (op === 'flush') queue.flush(socket);
          else socket.bufferedAmount = 0;
          assert.ok(queue.length <= 4);
          assert.equal(queue.sent + queue.dropped + queue.length, pushed);
        }
      }),
    );
  });
});

describe('IntervalMeter', () => {
  test('measures mean and max within runs, not across pauses', () => {
    const meter = new IntervalMeter();
    assert.equal(meter.meanMs, undefined);
    meter.note(0);
    meter.note(50);
    meter.note(130);
    meter.pause();
    meter.note(10_000);
    meter.note(10_060);
    assert.equal(meter.intervals, 3);
    assert.equal(meter.maxMs, 80);
    assert.ok(Math.abs(meter.meanMs! - 190 / 3) < 1e-9);
  });
});

describe('Emitter', () => {
  test('delivers typed payloads to listeners until they are removed', () => {
    const emitter = new Emitter<{ tick: number }>();
    const seen: number[] = [];
    const off = emitter.on('tick', (n) => seen.push(n));
    emitter.emit('tick', 1);
    off();
    emitter.emit('tick', 2);
    assert.deepEqual(seen, [1]);
  });
});

describe('Pinger', () => {
  test('a pong sets the round trip; three unanswered pings in a row declare the connection dead, once', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let clock = 1_000;
      const sent: Array<[number, number]> = [];
      let dead = 0;
      const pinger = new Pinger({ everyMs: 2_000, maxUnanswered: 3, now: () => clock, send: (id, t) => sent.push([id, t]), onDead: () => dead++ });
      pinger.start();
      assert.deepEqual(sent, [[1, 1_000]]);
      clock = 1_040;
      pinger.onPong(1);
      assert.equal(pinger.rttMs, 40);
      pinger.onPong(99);
      assert.equal(pinger.rttMs, 40, 'an unknown pong changes nothing');
      for (let i = 0; i < 3; i++) mock.timers.tick(2_000);
      assert.equal(sent.length, 4);
      assert.equal(dead, 0);
      mock.timers.tick(2_000);
      assert.equal(dead, 1);
      mock.timers.tick(10_000);
      assert.equal(dead, 1, 'stopped after declaring it dead');
      assert.equal(sent.length, 4);
    } finally {
      mock.timers.reset();
    }
  });
});
