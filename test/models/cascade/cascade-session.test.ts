/**
 * CascadeSession driven directly by a scripted session harness (harness.ts): the embedded demo
 * agent greets and answers, sentence-level streaming is gated by played-ACKs, a barge-in drops
 * what is queued and truncates the history to what was heard, and a played-ACK that never comes
 * ends in a coded error rather than a parked session.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TWILIO_FORMAT, PCM16_16K, type AudioFormat } from '../../../src/audio/format.js';
import { createCascadeFactory, type CascadeOptions } from '../../../src/models/cascade/factory.js';
import type { CascadeSession } from '../../../src/models/cascade/cascade-session.js';
import { GREETING } from '../../../src/models/cascade/demo-script.js';
import { silentLogger } from '../../../src/server/logger.js';
import { FakeTts, FakeVad, Harness, sampler, speak, startSpeaking, type HarnessOptions } from './harness.js';

interface Setup {
  readonly cascade: CascadeSession;
  readonly harness: Harness;
  readonly tts: FakeTts;
  readonly format: AudioFormat;
  close(): void;
}

function setup(
  options: Partial<CascadeOptions> = {},
  harnessOptions: HarnessOptions = {},
  format: AudioFormat = TWILIO_FORMAT,
  tts = new FakeTts(24000, 10),
): Setup {
  const factory = createCascadeFactory({
    stageTimeoutMs: 2000,
    logger: silentLogger(),
    tts,
    createVad: ({ sampleRate }) => new FakeVad(sampleRate),
    demo: { tokensPerSecond: 400, firstTokenDelayMs: 5 },
    ...options,
  });
  const cascade = factory({ callerFormat: format, callId: 'test' }) as CascadeSession;
  const harness = new Harness(harnessOptions);
  harness.attachTo(cascade);
  return {
    cascade,
    harness,
    tts,
    format,
    close: () => {
      cascade.close();
      harness.stop();
    },
  };
}

function words(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

describe('CascadeSession with the embedded demo agent', () => {
  test('greets the caller as soon as it is connected, sentence by sentence, in μ-law frames', async () => {
    const s = setup();
    try {
      await s.cascade.connect();
      const [greeting] = await waitForResponses(s.harness, 1);
      await s.harness.waitFor(() => s.harness.done(greeting!) !== undefined, 10_000, 'greeting done');
      assert.equal(s.harness.done(greeting!)?.status, 'completed');
      assert.equal(words(s.harness.said(greeting!)), words(GREETING));
      const audio = s.harness.log.filter((e) => e.type === 'audio');
      assert.ok(audio.length > 0);
      for (const a of audio) {
        assert.equal(a.durationMs, 20);
        assert.equal(a.bytes, 160); // 20 ms of μ-law at 8 kHz
      }
      // Sentence ids count up from 0, each ended once, in order.
      const ends = s.harness.log.flatMap((e) => (e.type === 'sentenceEnd' ? [e.sentenceId] : []));
      assert.deepEqual(ends, ends.map((_, i) => i));
      assert.ok(ends.length >= 3);
    } finally {
      s.close();
    }
  });

  test('answers a turn with how long the caller spoke, in PCM16 for a browser', async () => {
    const s = setup({ greet: false }, {}, PCM16_16K);
    try {
      await s.cascade.connect();
      speak(s.cascade, s.format, 1200, 200);
      const [answer] = await waitForResponses(s.harness, 1);
      await s.harness.waitFor(() => s.harness.done(answer!) !== undefined, 10_000, 'answer done');
      const types = s.harness.log.map((e) => e.type);
      assert.deepEqual(types.slice(0, 3), ['speechStarted', 'speechStopped', 'responseStarted']);
      assert.match(s.harness.said(answer!), /1\.2 seconds/);
      const audio = s.harness.log.filter((e) => e.type === 'audio');
      assert.ok(audio.every((a) => a.bytes === 640)); // 20 ms of PCM16 at 16 kHz
    } finally {
      s.close();
    }
  });

  test('sentence N+2 is not sent before sentence N has played', async () => {
    // A slow player (1× speed) with a large buffer: only the played-ACKs hold the sender back.
    const s = setup({ greet: true }, { speed: 4, bufferMs: 60_000 });
    try {
      await s.cascade.connect();
      const [greeting] = await waitForResponses(s.harness, 1);
      await s.harness.waitFor(() => s.harness.done(greeting!) !== undefined, 15_000, 'greeting done');
      const firstAudio = new Map<number, number>();
      const played = new Map<number, number>();
      s.harness.log.forEach((e, i) => {
        if (e.type === 'audio' && !firstAudio.has(e.sentenceId)) firstAudio.set(e.sentenceId, i);
        if (e.type === 'sentencePlayed') played.set(e.sentenceId, i);
      });
      assert.ok(firstAudio.size >= 3, 'the greeting has at least three sentences');
      for (const [sentenceId, at] of firstAudio) {
        if (sentenceId < 2) continue;
        const playedAt = played.get(sentenceId - 2);
        assert.ok(playedAt !== undefined && playedAt < at, `sentence ${sentenceId} sent before sentence ${sentenceId - 2} played`);
      }
    } finally {
      s.close();
    }
  });

  test('a played-ACK that never comes ends the response with VW_ERR_DEADLINE, and the call goes on', async () => {
    const s = setup({ bounds: { playedAckGraceMs: 300 } }, { acks: false, speed: 50 });
    try {
      await s.cascade.connect();
      const [greeting] = await waitForResponses(s.harness, 1);
      await s.harness.waitFor(() => s.harness.done(greeting!) !== undefined, 10_000, 'greeting ended');
      assert.equal(s.harness.done(greeting!)?.status, 'failed');
      const error = s.harness.log.find((e) => e.type === 'error');
      assert.equal(error?.type === 'error' ? error.code : undefined, 'VW_ERR_DEADLINE');
      // Two sentences were sent (0 and 1), sentence 2 waited for sentence 0's ACK in vain.
      const sent = new Set(s.harness.log.flatMap((e) => (e.type === 'audio' ? [e.sentenceId] : [])));
      assert.deepEqual([...sent], [0, 1]);
      // The call continues: the next utterance is answered.
      s.harness.acks = true;
      speak(s.cascade, s.format, 600, 200);
      const [, answer] = await waitForResponses(s.harness, 2);
      await s.harness.waitFor(() => s.harness.done(answer!) !== undefined, 10_000, 'answer done');
      assert.equal(s.harness.done(answer!)?.status, 'completed');
    } finally {
      s.close();
    }
  });
});

describe('barge-in', () => {
  test('with the heard point pending: cancelled at once, the history written only when heard() says where', async () => {
    const s = setup({}, { speed: 5, bufferMs: 200, pendingHeard: true });
    try {
      const greeting = await bargeInAfterFirstSentence(s);
      assert.deepEqual(s.cascade.historyMessages().filter((m) => m.role === 'assistant'), [], 'nothing written before heard()');
      const heardPoint = s.harness.lastHeard;
      assert.ok(heardPoint !== undefined && heardPoint.itemId === greeting);
      s.cascade.heard(heardPoint);
      const assistant = s.cascade.historyMessages().filter((m) => m.role === 'assistant');
      assert.equal(assistant.length, 1);
      assert.ok(words(GREETING).startsWith(words(assistant[0]!.content)), 'a prefix of the greeting');
      assert.ok(assistant[0]!.content.length < words(GREETING).length, 'and not all of it');
    } finally {
      s.close();
    }
  });

  test('drops the rest of the response, keeps only the heard text in the history, and the agent says so', async () => {
    const s = setup({}, { speed: 5, bufferMs: 200 });
    try {
      const greeting = await bargeInAfterFirstSentence(s);
      const interruptAt = s.harness.log.findIndex((e) => e.type === 'interrupt');
      const lateAudio = s.harness.log.slice(interruptAt).filter((e) => e.type === 'audio' && e.responseId === greeting);
      assert.deepEqual(lateAudio, [], 'no audio of the interrupted response after the interrupt');

      const history = s.cascade.historyMessages();
      const assistant = history.filter((m) => m.role === 'assistant');
      assert.equal(assistant.length, 1);
      const heard = assistant[0]!.content;
      assert.ok(words(GREETING).startsWith(words(heard)), 'the history holds a prefix of the greeting');
      assert.ok(heard.length < words(GREETING).length, 'and not all of it');
      assert.ok(heard.length >= words(s.harness.said(greeting).split(/(?<=[.!?])\s/)[0] ?? '').length, 'at least the played sentence');

      // Finish the utterance: the next answer reports the interruption with a figure.
      s.cascade.noteBargeIn(123);
      speak(s.cascade, s.format, 400, 200);
      const [, answer] = await waitForResponses(s.harness, 2);
      await s.harness.waitFor(() => s.harness.done(answer!) !== undefined, 10_000, 'answer done');
      const said = s.harness.said(answer!);
      assert.match(said, /You interrupted me just after/);
      assert.match(said, /123 milliseconds/);
      assert.match(said, /first interruption/);
    } finally {
      s.close();
    }
  });

  test('an interruption before any audio keeps the utterance for the next turn', async () => {
    const s = setup({ greet: false, demo: { tokensPerSecond: 400, firstTokenDelayMs: 500 } });
    try {
      await s.cascade.connect();
      speak(s.cascade, s.format, 600, 200);
      const [first] = await waitForResponses(s.harness, 1);
      // The caller goes on before the agent said anything.
      speak(s.cascade, s.format, 400, 200);
      await s.harness.waitFor(() => s.harness.done(first!)?.status === 'cancelled', 2_000, 'first cancelled');
      const [, second] = await waitForResponses(s.harness, 2);
      await s.harness.waitFor(() => s.harness.done(second!) !== undefined, 10_000, 'second done');
      // 0.6 s + 0.4 s of speech (plus the fake VAD's hangover frames) reported as one turn.
      const seconds = Number(/spoke for (\d+\.\d) seconds|speak for (\d+\.\d) seconds/.exec(s.harness.said(second!))?.slice(1).find(Boolean));
      assert.ok(seconds >= 1.0, `joined duration ${seconds}`);
      assert.deepEqual(s.cascade.historyMessages().filter((m) => m.role === 'user').length, 1);
    } finally {
      s.close();
    }
  });
});

describe('bounds', () => {
  test('the speech queue stays at its bound (ms) while the player is slow', async () => {
    const s = setup({ bounds: { speechQueueMs: 300 } }, { speed: 2, bufferMs: 100 });
    // Sampled on a timer and at every frame the sender hands over (deterministic under load).
    const depths = sampler(() => s.cascade.depths().speechMs);
    const audio = s.harness.audio.bind(s.harness);
    s.harness.audio = (chunk) => {
      depths.samples.push(s.cascade.depths().speechMs);
      return audio(chunk);
    };
    try {
      await s.cascade.connect();
      await waitForResponses(s.harness, 1);
      await s.harness.waitFor(() => s.harness.log.some((e) => e.type === 'sentencePlayed' && e.sentenceId === 1), 15_000, 'sentence 1 played');
      depths.stop();
      const max = Math.max(...depths.samples);
      assert.ok(max <= 300, `speech queue reached ${max} ms`);
      assert.ok(max >= 260, `speech queue only reached ${max} ms: the bound was never tested`);
    } finally {
      depths.stop();
      s.close();
    }
  });
});

/** Connects, waits for the greeting's first sentence to play, barges in; the greeting was cancelled. Returns its id. */
async function bargeInAfterFirstSentence(s: ReturnType<typeof setup>): Promise<string> {
  await s.cascade.connect();
  const [greeting] = await waitForResponses(s.harness, 1);
  await s.harness.waitFor(() => s.harness.log.some((e) => e.type === 'sentencePlayed' && e.sentenceId === 0), 10_000, 'sentence 0 played');
  startSpeaking(s.cascade, s.format);
  await s.harness.waitFor(() => s.harness.done(greeting!) !== undefined, 2_000, 'greeting cancelled');
  assert.equal(s.harness.done(greeting!)?.status, 'cancelled');
  return greeting!;
}

async function waitForResponses(harness: Harness, count: number): Promise<string[]> {
  await harness.waitFor(() => harness.responses().length >= count, 10_000, `${count} responses`);
  return harness.responses();
}
