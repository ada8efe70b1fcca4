import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../../src/server/config.js';
import { buildGateway } from '../../../src/server/build.js';
import { FakeRealtimeServer } from '../../fakes/realtime-server.js';
import { FakeTwilioCaller, toneSamples } from '../../fakes/twilio-caller.js';

type Line = Record<string, unknown>;

/** Log lines as objects; `next(msg)` resolves at the first line with that message. */
class LogLines extends Writable {
  readonly lines: Line[] = [];
  private readonly wanted = new Map<string, (line: Line) => void>();
  next(msg: string): Promise<Line> {
    const seen = this.lines.find((l) => l.msg === msg);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.wanted.set(msg, resolve));
  }
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const text of chunk.toString('utf8').split('\n')) {
      if (text.trim() === '' || this.lines.length >= 10_000) continue;
      const line = JSON.parse(text) as Line;
      // JSON.parse keeps the last of two equal keys: the raw line tells whether one came twice.
      Object.defineProperty(line, 'raw', { value: text });
      this.lines.push(line);
      this.wanted.get(String(line.msg))?.(line);
    }
    done();
  }
}

describe('startCall: the call ids on log lines', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test("the session's lines carry the transport and the call's ids, once each", { timeout: 10_000 }, async () => {
    const model = await FakeRealtimeServer.start({ answerMs: 500 });
    cleanups.push(() => model.close());
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', OPENAI_API_KEY: 'test-key', OPENAI_REALTIME_URL: model.url() });
    assert.ok(config.ok, config.ok ? '' : config.problems.join('; '));
    const logs = new LogLines();
    const gateway = await buildGateway(config.config, pino({ level: 'info' }, logs));
    cleanups.push(() => gateway.close());
    const { port } = await gateway.listen(0, '127.0.0.1');
    const caller = await FakeTwilioCaller.connect(`ws://127.0.0.1:${port}/twilio/media`, {});
    cleanups.push(async () => caller.terminate());

    const started = await logs.next('call started');
    assert.equal(started.transport, 'twilio');
    assert.equal(started.callSid, caller.callSid);
    assert.equal(started.streamSid, caller.streamSid);
    const raw = (started as { raw?: string }).raw ?? '';
    for (const key of ['"callSid"', '"streamSid"', '"transport"']) assert.equal(raw.split(key).length - 1, 1, `${key} in ${raw}`);
    // Every caller event reaches the session through the admission wrapper (regression: spreading
    // the session's handler object, a class instance, lost its audio and played handlers).
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 200, 5_000, 'the answer playing');
    await caller.stop();
    const ended = await logs.next('call ended');
    assert.equal(ended.callSid, caller.callSid);
    assert.equal(ended.streamSid, caller.streamSid);
    assert.equal(ended.transport, 'twilio');
  });
});
