/**
 * The adapter's byte path for mark echoes (dialect readMarkEcho, Twilio's layout) against its full
 * path (the same dialect without the hook): the same frames, echoes of marks the adapter sent,
 * flushed by a clear, forged, of another stream, badly numbered, laid out otherwise or mutated,
 * must give the same events in the same order, the same counters and the same coded errors.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamStats } from '../../../src/transports/media-stream/adapter.js';
import type { MediaStreamDialect } from '../../../src/transports/media-stream/dialect.js';
import { TWILIO_DIALECT } from '../../../src/transports/twilio/dialect.js';
import { silentLogger } from '../../../src/server/logger.js';
import { Recorder, rigOf, ulaw, type Rig } from '../twilio/helpers.js';

const START = (JSON.parse(readFileSync(new URL('../../fixtures/twilio/start.json', import.meta.url), 'utf8')) as { wire: { streamSid: string } }).wire;
const SID = START.streamSid;

/** Frames the byte path took, counted around the real hook. */
let taken = 0;
const FAST: MediaStreamDialect = {
  ...TWILIO_DIALECT,
  readMarkEcho(bytes, streamId) {
    const name = TWILIO_DIALECT.readMarkEcho?.(bytes, streamId);
    if (name !== undefined) taken++;
    return name;
  },
};
const FULL: MediaStreamDialect = { ...TWILIO_DIALECT, readMarkEcho: undefined };

const rigs = new Map<MediaStreamDialect, Rig<MediaStreamTransport>>();
after(() => rigs.forEach((r) => r.close()));

async function rigFor(dialect: MediaStreamDialect): Promise<Rig<MediaStreamTransport>> {
  let r = rigs.get(dialect);
  if (r === undefined) {
    r = await rigOf((ws, o) => new MediaStreamTransport(ws, dialect, o));
    rigs.set(dialect, r);
  }
  return r;
}

/** One frame the caller sends, built from the names of the marks it received. */
type Echo =
  | { kind: 'echo'; index: number; sequence: string }
  | { kind: 'forged'; name: string }
  | { kind: 'spaced' | 'escaped' | 'other-stream' | 'bad-sequence'; index: number }
  | { kind: 'mutated'; index: number; at: number; byte: number; insert: boolean };

function layout(name: string, sequence = '7', sid = SID): string {
  return `{"event":"mark","sequenceNumber":${JSON.stringify(sequence)},"streamSid":${JSON.stringify(sid)},"mark":{"name":${JSON.stringify(name)}}}`;
}

function frameOf(echo: Echo, names: readonly string[]): string | Buffer {
  if (echo.kind === 'forged') return layout(echo.name);
  const name = names[echo.index % names.length] ?? '';
  switch (echo.kind) {
    case 'echo':
      return layout(name, echo.sequence);
    case 'spaced':
      return JSON.stringify({ event: 'mark', sequenceNumber: '7', streamSid: SID, mark: { name } }, null, 1);
    case 'escaped':
      return layout(name).replace('"name":"v', '"name":"\\u0076');
    case 'other-stream':
      return layout(name, '7', `${SID.slice(0, -1)}X`);
    case 'bad-sequence':
      return layout(name, '07x');
    case 'mutated': {
      const original = Buffer.from(layout(name), 'latin1');
      const i = echo.at % original.length;
      return Buffer.concat([original.subarray(0, i), Buffer.of(echo.byte), original.subarray(echo.insert ? i : i + 1)]);
    }
  }
}

/** The names of the marks sent below: 5 periodic + a sentence end, the mark behind a clear, 2 periodic + a sentence end. */
const MARKS_SENT = 10;

interface Outcome {
  readonly events: unknown[];
  readonly stats: MediaStreamStats;
  readonly taken: number;
}

/** Starts a stream on `dialect`, sends marks, a clear and more marks, then the caller's `echoes` and a dtmf to know they were all read. */
async function play(dialect: MediaStreamDialect, echoes: readonly Echo[]): Promise<Outcome> {
  const r = await rigFor(dialect);
  const server = r.next({ attach: false, logger: silentLogger() });
  const client = new WebSocket(r.url, { perMessageDeflate: false });
  const names: string[] = [];
  client.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as { event: string; mark?: { name: string } };
    if (message.event === 'mark' && message.mark !== undefined) names.push(message.mark.name);
  });
  await once(client, 'open');
  const { transport } = await server;
  const recorder = new Recorder();
  // echoAfterClear, which the recorder does not record, goes into the same ordered log.
  transport.attach({ ...recorder.events, echoAfterClear: (epoch, ms) => (recorder.log as unknown[]).push({ type: 'echoAfterClear', epoch, ms }) });
  client.send(JSON.stringify(START));
  await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
  // 200 ms pieces, as the session sends them: a mark after each (marks never split a media message).
  for (let i = 0; i < 5; i++) transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
  transport.endSentence(1, 0);
  transport.clear(2);
  for (let i = 0; i < 2; i++) transport.sendAudio({ epoch: 2, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
  transport.endSentence(2, 0);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (names.length < MARKS_SENT) return;
      client.off('message', check);
      resolve();
    };
    client.on('message', check);
  });
  const takenBefore = taken;
  for (const echo of echoes) client.send(frameOf(echo, names));
  client.send(JSON.stringify({ event: 'dtmf', streamSid: SID, sequenceNumber: '99', dtmf: { track: 'inbound_track', digit: '#' } }));
  await recorder.waitFor(() => recorder.of('dtmf').length === 1, 5000, 'the dtmf after the echoes');
  const outcome = { events: recorder.log.filter((e) => e.type !== 'start'), stats: transport.stats(), taken: taken - takenBefore };
  client.terminate();
  return outcome;
}

const index = fc.nat({ max: MARKS_SENT - 1 });
const echo: fc.Arbitrary<Echo> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('echo' as const), index, sequence: fc.stringMatching(/^[0-9]{1,15}$/) }) },
  fc.record({ kind: fc.constant('forged' as const), name: fc.oneof(fc.constantFrom('my label', 'vw:0:999:200', 'vw:1:2:3', 'vw:01:1:0', ''), fc.string({ maxLength: 30 })) }),
  fc.record({ kind: fc.constantFrom('spaced' as const, 'escaped' as const, 'other-stream' as const, 'bad-sequence' as const), index }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mutated' as const), index, at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), insert: fc.boolean() }) },
);

describe('MediaStreamTransport: mark echoes on the byte path', () => {
  test('the documented echoes of sent marks take the byte path: played, sentencePlayed and flushed as on the full path', async () => {
    const script: Echo[] = Array.from({ length: MARKS_SENT }, (_, i) => ({ kind: 'echo', index: i, sequence: String(10 + i) }));
    const fast = await play(FAST, script);
    const full = await play(FULL, script);
    assert.equal(fast.taken, MARKS_SENT);
    assert.equal(full.taken, 0);
    assert.deepEqual(fast, { ...full, taken: MARKS_SENT });
    // Six marks were flushed by the clear; the one behind it and the three after it were played.
    assert.deepEqual([fast.stats.echoesFlushed, fast.stats.echoesTrusted, fast.stats.echoesUnknown, fast.stats.badInputs], [6, 4, 0, 0]);
    assert.deepEqual(fast.events, [
      ...[200, 400, 600, 800, 1000, 1000].map((ms) => ({ type: 'echoAfterClear', epoch: 1, ms })),
      { type: 'played', epoch: 2, ms: 0 },
      { type: 'played', epoch: 2, ms: 200 },
      { type: 'played', epoch: 2, ms: 400 },
      { type: 'sentencePlayed', epoch: 2, sentenceId: 0 },
      { type: 'dtmf', digit: '#' },
    ]);
  });

  test('property: any echoes, valid or not, give the same events, counters and coded errors on both paths', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(echo, { minLength: 1, maxLength: 25 }), async (echoes) => {
        const fast = await play(FAST, echoes);
        const full = await play(FULL, echoes);
        assert.deepEqual({ ...fast, taken: 0 }, full);
        // Every echo in Twilio's layout of a name sent was taken by the byte path.
        assert.ok(fast.taken >= echoes.filter((e) => e.kind === 'echo').length);
      }),
      { numRuns: 60 },
    );
  });
});
