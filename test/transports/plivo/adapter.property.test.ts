/**
 * PlivoTransport under random interleavings of sendAudio (any length, any epoch), endSentence and
 * clearAudio, with Plivo playing everything and acknowledging every checkpoint in order, and
 * acknowledging (or not) the checkpoints a clear dropped. Invariants: confirmed positions only move
 * forward within an epoch and never pass the audio sent in it; every acknowledgement of a dropped
 * checkpoint is judged flushed; every playAudio carries the stream's format.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PlivoTransport } from '../../../src/transports/plivo/adapter.js';
import { Recorder } from '../twilio/helpers.js';
import { StubSocket } from '../stub-socket.js';

type Op = { kind: 'audio'; ms: number; epochStep: 0 | 1 } | { kind: 'end' } | { kind: 'clear' } | { kind: 'play' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('audio' as const), ms: fc.integer({ min: 1, max: 300 }), epochStep: fc.constantFrom(0 as const, 0 as const, 0 as const, 1 as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'end' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'play' as const }) },
);

const STREAM = '87654321-4321-4321-4321-cba987654321';

describe('PlivoTransport: properties', () => {
  for (const ackFlushed of [false, true]) {
    test(`positions and clears hold under random interleavings (dropped checkpoints ${ackFlushed ? 'acknowledged' : 'never acknowledged'})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.constantFrom(['audio/x-mulaw', 8000] as const, ['audio/x-l16', 16000] as const), (ops, [encoding, rate]) => {
          const socket = new StubSocket();
          const transport = new PlivoTransport(socket.asWebSocket());
          const recorder = new Recorder();
          transport.attach(recorder.events);
          socket.deliver(JSON.stringify({ event: 'start', sequenceNumber: 1, start: { callId: 'c-1', streamId: STREAM, accountId: 'MA1', tracks: ['inbound'], mediaFormat: { encoding, sampleRate: rate } } }));
          const perMs = (rate / 1000) * (encoding === 'audio/x-l16' ? 2 : 1);
          let epoch = 0;
          let sentence = 0;
          const sentMs = new Map<number, number>();
          let pending: string[] = [];
          const dropped = new Set<string>();
          const playOut = (): void => {
            for (const sent of socket.drain()) {
              assert.ok('text' in sent, 'Plivo streams are text only');
              const msg = JSON.parse(sent.text) as { event: string; name?: string; media?: { contentType: string; sampleRate: number } };
              if (msg.event === 'playAudio') assert.deepEqual([msg.media?.contentType, msg.media?.sampleRate], [encoding, rate]);
              else if (msg.event === 'checkpoint') pending.push(msg.name!);
              else {
                assert.equal(msg.event, 'clearAudio');
                for (const name of pending) dropped.add(name);
                const flushed = pending;
                pending = [];
                socket.deliver(JSON.stringify({ sequenceNumber: 0, event: 'clearedAudio', streamId: STREAM }));
                if (ackFlushed) for (const name of flushed) socket.deliver(JSON.stringify({ event: 'playedStream', streamId: STREAM, name }));
              }
            }
          };
          for (const o of ops) {
            if (o.kind === 'audio') {
              epoch += o.epochStep;
              transport.sendAudio({ epoch, sentenceId: sentence, bytes: new Uint8Array(o.ms * perMs), durationMs: o.ms });
              sentMs.set(epoch, (sentMs.get(epoch) ?? 0) + o.ms);
            } else if (o.kind === 'end') transport.endSentence(epoch, sentence++);
            else if (o.kind === 'clear') transport.clear(++epoch);
            playOut();
            if (o.kind === 'play') for (const name of pending.splice(0)) socket.deliver(JSON.stringify({ event: 'playedStream', streamId: STREAM, name }));
          }
          const last = new Map<number, number>();
          for (const p of recorder.of('played')) {
            assert.ok(p.ms > (last.get(p.epoch) ?? -1), `epoch ${p.epoch} moved back to ${p.ms}`);
            assert.ok(p.ms <= (sentMs.get(p.epoch) ?? 0), `confirmed ${p.ms} ms of ${sentMs.get(p.epoch)} sent`);
            last.set(p.epoch, p.ms);
          }
          const stats = transport.stats();
          assert.equal(stats.playedFlushed, ackFlushed ? dropped.size : 0);
          assert.equal(stats.playedUnknown, 0);
          assert.equal(stats.badInputs, 0);
          for (const s of recorder.of('sentencePlayed')) assert.ok(s.sentenceId < sentence);
        }),
        { numRuns: 1000 },
      );
    });
  }
});
