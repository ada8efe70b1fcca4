/**
 * VonageTransport under random interleavings of sendAudio (any length, any epoch), endSentence and
 * clear, with Vonage playing everything it was sent and echoing every notify in order, and echoing
 * (or not) the notifies a clear dropped. Invariants: every binary message is exactly one frame;
 * confirmed positions only move forward within an epoch and never pass the audio sent in it; after
 * a clear nothing sent before it is ever confirmed; sentence acks name sentences that were ended.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VonageTransport } from '../../../src/transports/vonage/adapter.js';
import { Recorder } from '../twilio/helpers.js';
import { StubSocket } from '../stub-socket.js';

type Op = { kind: 'audio'; bytes: number; epochStep: 0 | 1 } | { kind: 'end' } | { kind: 'clear' } | { kind: 'play' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('audio' as const), bytes: fc.integer({ min: 1, max: 2000 }).map((n) => n * 2), epochStep: fc.constantFrom(0 as const, 0 as const, 0 as const, 1 as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'end' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'play' as const }) },
);

describe('VonageTransport: properties', () => {
  for (const echoFlushed of [false, true]) {
    test(`frames, positions and clears hold under random interleavings (flushed notifies ${echoFlushed ? 'echoed' : 'dropped'})`, () => {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.constantFrom(8000, 16000), (ops, rate) => {
          const socket = new StubSocket();
          const transport = new VonageTransport(socket.asWebSocket());
          const recorder = new Recorder();
          transport.attach(recorder.events);
          socket.deliver(JSON.stringify({ event: 'websocket:connected', 'content-type': `audio/l16;rate=${rate}`, uuid: 'u' }));
          const frame = rate / 25;
          let epoch = 0;
          let sentence = 0;
          const sentMs = new Map<number, number>();
          /** Notifies Vonage holds, in order, and the clear generation each belongs to. */
          let pending: string[] = [];
          let clears = 0;
          const clearedNames = new Set<string>();
          const playOut = (): void => {
            for (const sent of socket.drain()) {
              if ('binary' in sent) {
                assert.equal(sent.binary.length, frame, 'one whole frame per binary message');
                continue;
              }
              const action = JSON.parse(sent.text) as { action: string; payload?: { name: string } };
              if (action.action === 'notify') pending.push(action.payload!.name);
              else {
                for (const name of pending) clearedNames.add(name);
                const flushed = pending;
                pending = [];
                socket.deliver('{"event":"websocket:cleared"}');
                if (echoFlushed) for (const name of flushed) socket.deliver(JSON.stringify({ event: 'websocket:notify', payload: { name } }));
              }
            }
          };
          for (const o of ops) {
            if (o.kind === 'audio') {
              epoch += o.epochStep;
              transport.sendAudio({ epoch, sentenceId: sentence, bytes: new Uint8Array(o.bytes), durationMs: o.bytes / (frame / 20) });
              sentMs.set(epoch, (sentMs.get(epoch) ?? 0) + o.bytes / (rate / 500));
            } else if (o.kind === 'end') transport.endSentence(epoch, sentence++);
            else if (o.kind === 'clear') {
              epoch++;
              clears++;
              transport.clear(epoch);
            }
            playOut();
            if (o.kind === 'play') {
              for (const name of pending.splice(0)) socket.deliver(JSON.stringify({ event: 'websocket:notify', payload: { name } }));
            }
          }
          const last = new Map<number, number>();
          for (const p of recorder.of('played')) {
            assert.ok(p.ms > (last.get(p.epoch) ?? -1), `epoch ${p.epoch} moved back to ${p.ms}`);
            assert.ok(p.ms <= (sentMs.get(p.epoch) ?? 0) + 1e-9, `confirmed ${p.ms} ms of ${sentMs.get(p.epoch)} sent`);
            last.set(p.epoch, p.ms);
          }
          assert.ok(recorder.of('played').length <= transport.stats().notifiesTrusted);
          // Every echo of a notify a clear dropped was judged flushed, none trusted.
          assert.equal(transport.stats().notifiesFlushed, echoFlushed ? clearedNames.size : 0);
          assert.equal(transport.stats().notifiesUnknown, 0);
          for (const s of recorder.of('sentencePlayed')) assert.ok(s.sentenceId < sentence);
          assert.equal(transport.stats().clearsSent, clears);
        }),
        { numRuns: 1000 },
      );
    });
  }
});
