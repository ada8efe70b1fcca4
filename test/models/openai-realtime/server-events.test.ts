/**
 * The event handlers with and without the audio-delta fast path: for any sequence of model frames
 * (deltas valid and broken, of live, interrupted and unknown responses, around the other events of
 * a response), what the session sees — audio bytes, ids, sentence ids, durations, sentence ends,
 * coded errors — and the counters are the same.
 */
// node:test's test()/describe() return promises that the runner itself awaits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PCM16_24K, TWILIO_FORMAT, type AudioFormat } from '../../../src/audio/format.js';
import type { ModelEvents } from '../../../src/models/model.js';
import { FormatConverter } from '../../../src/models/shared/convert.js';
import { AudioDeltaFastPath } from '../../../src/models/openai-realtime/delta-fast-path.js';
import { DeltaAudio } from '../../../src/models/openai-realtime/delta-audio.js';
import { resolveOptions } from '../../../src/models/openai-realtime/options.js';
import { ResponseTracker } from '../../../src/models/openai-realtime/responses.js';
import { handleServerEvent, type Counters, type EventContext } from '../../../src/models/openai-realtime/server-events.js';

const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Never takes the fast path: every frame goes through the full parser. */
const NO_FAST_PATH = { read: () => undefined } as unknown as AudioDeltaFastPath;

interface Run {
  readonly log: unknown[];
  readonly counters: Counters;
  readonly ctx: EventContext;
}

function run(fast: boolean, wire: AudioFormat, audioFailed?: (err: unknown) => void): Run {
  const log: unknown[] = [];
  const counters: Counters = { outputMs: 0, droppedDeltas: 0, malformedEvents: 0, unknownEvents: 0 };
  const options = { ...resolveOptions({ apiKey: 'k', callerFormat: TWILIO_FORMAT }), logger: silentLogger };
  const outbound = new FormatConverter(wire, TWILIO_FORMAT);
  const events: ModelEvents = {
    speechStarted: () => log.push(['speechStarted']),
    speechStopped: () => log.push(['speechStopped']),
    responseStarted: (id) => log.push(['responseStarted', id]),
    audio: (chunk) => {
      log.push(['audio', chunk.responseId, chunk.itemId, chunk.sentenceId, chunk.durationMs, Buffer.from(chunk.bytes).toString('hex')]);
      return Promise.resolve();
    },
    sentenceEnd: (id, sentenceId) => log.push(['sentenceEnd', id, sentenceId]),
    responseDone: (id, status) => log.push(['responseDone', id, status]),
    transcript: () => undefined,
    error: (error) => log.push(['error', error.code, error.message]),
    closed: () => log.push(['closed']),
  };
  const ctx: EventContext = {
    options,
    responses: new ResponseTracker(),
    counters,
    events: () => events,
    deltaFastPath: fast ? new AudioDeltaFastPath() : NO_FAST_PATH,
    deltaAudio: new DeltaAudio(outbound),
    resetOutput: () => outbound.reset(),
    sessionUpdated: () => undefined,
    committed: () => undefined,
    callerSpeech: (speaking) => log.push(['callerSpeech', speaking]),
    responseEnded: () => undefined,
    malformed: (error) => {
      counters.malformedEvents++;
      events.error(error);
    },
    eventError: () => false,
    audioFailed: audioFailed ?? ((err) => log.push(['audioFailed', String(err)])),
  };
  return { log, counters, ctx };
}

type Step =
  | { kind: 'created' | 'done' | 'audioDone'; response: number }
  | { kind: 'interrupt' }
  | { kind: 'delta'; response: number; item: number; content: number; bytes: Uint8Array; typeFirst: boolean; mutate?: { at: number; char: string } };

const rid = (n: number): string => `resp_C9G8ZgzWrq1vbzGzuPnk${n}`;
const iid = (n: number): string => `item_C9G8aOjbYpKDZGYqOG5T${n}`;

function frames(step: Step, seq: number): string | undefined {
  switch (step.kind) {
    case 'interrupt':
      return undefined;
    case 'created':
      return JSON.stringify({ type: 'response.created', event_id: `event_${seq}`, response: { object: 'realtime.response', id: rid(step.response), status: 'in_progress', output: [] } });
    case 'done':
      return JSON.stringify({ type: 'response.done', event_id: `event_${seq}`, response: { object: 'realtime.response', id: rid(step.response), status: 'completed', output: [] } });
    case 'audioDone':
      return JSON.stringify({ type: 'response.output_audio.done', event_id: `event_${seq}`, response_id: rid(step.response), item_id: iid(0), output_index: 0, content_index: 0 });
    case 'delta': {
      const fields = { response_id: rid(step.response), item_id: iid(step.item), output_index: 0, content_index: step.content, delta: Buffer.from(step.bytes).toString('base64') };
      const text = JSON.stringify(step.typeFirst ? { type: 'response.output_audio.delta', event_id: `event_${seq}`, ...fields } : { event_id: `event_${seq}`, type: 'response.output_audio.delta', ...fields });
      if (step.mutate === undefined) return text;
      const i = step.mutate.at % text.length;
      return text.slice(0, i) + step.mutate.char + text.slice(i + 1);
    }
  }
}

const response = fc.nat({ max: 2 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('created' as const, 'done' as const, 'audioDone' as const), response }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'interrupt' as const }) },
  {
    weight: 8,
    arbitrary: fc.record(
      {
        kind: fc.constant('delta' as const),
        response,
        item: fc.nat({ max: 1 }),
        content: fc.nat({ max: 1 }),
        bytes: fc.uint8Array({ maxLength: 60 }).map((b) => (b.length % 2 === 1 ? b.subarray(1) : b)),
        typeFirst: fc.boolean(),
        mutate: fc.record({ at: fc.nat(), char: fc.constantFrom('"', '\\', ' ', '0', '9', '=', 'A', '-', '}', '\u0000', 'é', 'x') }),
      },
      { requiredKeys: ['kind', 'response', 'item', 'content', 'bytes', 'typeFirst'] },
    ),
  },
);

function play(steps: readonly Step[], fast: boolean, wire: AudioFormat): Run {
  const r = run(fast, wire);
  steps.forEach((s, seq) => {
    if (s.kind === 'interrupt') r.ctx.responses.interrupt();
    else handleServerEvent(r.ctx, frames(s, seq));
  });
  return r;
}

describe('Realtime event handlers: fast path and full parser alike', () => {
  for (const [name, wire] of [['μ-law wire (no conversion)', TWILIO_FORMAT], ['PCM16 24 kHz wire (converted)', PCM16_24K]] as const) {
    test(`property: any sequence of frames has the same effects and counters, ${name}`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 30 }), (later) => {
          // Most runs need a live response for their deltas to be delivered at all.
          const steps: Step[] = [{ kind: 'created', response: 0 }, ...later];
          const fast = play(steps, true, wire);
          const full = play(steps, false, wire);
          assert.deepEqual(fast.log, full.log);
          assert.deepEqual(fast.counters, full.counters);
        }),
        { numRuns: 400 },
      );
    });
  }

  test('a delta of the live response is delivered the same either way; one of an interrupted response is only counted', () => {
    const bytes = Uint8Array.from([0xff, 0x7f, 0x00, 0x10]);
    const steps: Step[] = [
      { kind: 'created', response: 1 },
      { kind: 'delta', response: 1, item: 0, content: 0, bytes, typeFirst: true },
      { kind: 'interrupt' },
      { kind: 'delta', response: 1, item: 0, content: 0, bytes, typeFirst: true },
    ];
    const fast = play(steps, true, TWILIO_FORMAT);
    assert.deepEqual(fast.log, [['responseStarted', rid(1)], ['audio', rid(1), iid(0), 0, 0.5, 'ff7f0010']]);
    assert.deepEqual(fast.counters, { outputMs: 0.5, droppedDeltas: 1, malformedEvents: 0, unknownEvents: 0 });
    assert.deepEqual(play(steps, false, TWILIO_FORMAT).log, fast.log);
  });

  test('an audio handler that rejects or throws reaches audioFailed, and the next delta is still delivered', async () => {
    const failures: unknown[] = [];
    let failed: () => void = () => undefined;
    const bothFailed = new Promise<void>((resolve) => (failed = resolve));
    const r = run(true, TWILIO_FORMAT, (err) => {
      failures.push(err);
      if (failures.length === 2) failed();
    });
    const events = r.ctx.events();
    assert.ok(events !== undefined);
    let calls = 0;
    events.audio = () => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('rejected'));
      throw new Error('thrown');
    };
    const bytes = Uint8Array.from([1, 2]);
    handleServerEvent(r.ctx, frames({ kind: 'created', response: 0 }, 0));
    handleServerEvent(r.ctx, frames({ kind: 'delta', response: 0, item: 0, content: 0, bytes, typeFirst: true }, 1));
    handleServerEvent(r.ctx, frames({ kind: 'delta', response: 0, item: 0, content: 0, bytes, typeFirst: true }, 2));
    await bothFailed;
    assert.equal(calls, 2);
    assert.deepEqual(failures.map((err) => (err as Error).message).sort(), ['rejected', 'thrown']);
  });
});
