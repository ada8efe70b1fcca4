/**
 * Issue 5, end to end: `npm start`'s entry point with no environment at all (no key, no network)
 * runs the cascade with the embedded agent. A fake Twilio caller speaks real synthesised speech and
 * must hear the agent answer; a barge-in must silence the agent within 150 ms on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { OfflineTts } from '../../src/models/cascade/tts-offline.js';
import { StreamingResampler } from '../../src/audio/resampler.js';
import { FakeTwilioCaller } from '../fakes/twilio-caller.js';
import { concat } from '../helpers/speech-corpus.js';

const BARGE_IN_LIMIT_MS = 150;

/** Speech for the caller: the offline TTS at 16 kHz, resampled to Twilio's 8 kHz. */
async function speech(text: string): Promise<Int16Array> {
  const tts = new OfflineTts({ outputRate: 16000 });
  const parts: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text)) parts.push(Int16Array.from(chunk));
  const whole = concat(parts);
  return Int16Array.from(new StreamingResampler(16000, 8000, { maxInputMs: 60_000 }).process(whole));
}

/** Starts the gateway's real entry point as `npm start` does, with an empty environment. */
function startGatewayProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /listening on http:\/\/[^:]+:(\d+)\//.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.stderr.resume();
  });
}

describe('npm start with no environment', { concurrency: false }, () => {
  let gateway: { child: ChildProcess; port: number };
  let question: Int16Array;
  let interruption: Int16Array;

  before(async () => {
    [gateway, question, interruption] = await Promise.all([
      startGatewayProcess(),
      speech('Hello there. Can you tell me something about flow control?'),
      speech('Wait, stop. I have another question.'),
    ]);
  });

  after(() => {
    gateway?.child.kill('SIGTERM');
  });

  test('answers /healthz and /readyz', async () => {
    const health = await fetch(`http://127.0.0.1:${gateway.port}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`http://127.0.0.1:${gateway.port}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { backend: string }).backend, 'cascade');
  });

  test('a caller is greeted, speaks, hears an answer, and silences it by barging in', async () => {
    const caller = await FakeTwilioCaller.connect(`ws://127.0.0.1:${gateway.port}/twilio/media`);
    try {
      // The greeting plays to the end.
      await caller.waitUntil(() => caller.playedMs > 500, 15_000, 'greeting');
      await caller.waitUntil(() => caller.bufferedMs === 0 && caller.playedMs > 1_500, 30_000, 'greeting to finish');
      const playedBeforeQuestion = caller.playedMs;

      await caller.sendSpeech(question);
      const turnEndedAt = caller.now();
      await caller.waitUntil(() => caller.playedMs > playedBeforeQuestion + 20, 15_000, 'an answer');
      const firstAnswerMedia = caller.received.toArray().find((r) => r.event === 'media' && r.at > turnEndedAt);
      assert.ok(firstAnswerMedia, 'answer audio arrived after the question');
      const firstAudioMs = firstAnswerMedia.at - turnEndedAt;

      // Let the answer play for a second, then talk over it.
      const answerStart = caller.playedMs;
      await caller.waitUntil(() => caller.playedMs > answerStart + 1_000, 15_000, 'answer to play for 1 s');
      const clearsBefore = caller.clears.length;
      const bargeInAt = caller.now();
      const speaking = caller.sendSpeech(interruption);
      await caller.waitUntil(() => caller.clears.length > clearsBefore, 5_000, 'clear after barge-in');
      const clear = caller.clears.toArray()[clearsBefore]!;
      const bargeInToSilenceMs = clear.at - bargeInAt;
      const staleMs = caller.heardSince(bargeInAt);
      console.log(`# offline agent: first audio ${firstAudioMs.toFixed(0)} ms after the caller stopped speaking (includes the VAD's end-of-turn silence); barge-in → silence ${bargeInToSilenceMs.toFixed(0)} ms; stale audio ${staleMs.toFixed(0)} ms`);
      assert.ok(bargeInToSilenceMs <= BARGE_IN_LIMIT_MS, `barge-in → silence took ${bargeInToSilenceMs} ms`);
      assert.ok(staleMs <= BARGE_IN_LIMIT_MS);
      await speaking;
      // The agent answers the interruption and says it was interrupted.
      const afterBargeIn = caller.playedMs;
      await caller.waitUntil(() => caller.playedMs > afterBargeIn + 500, 15_000, 'an answer after the interruption');
      assert.deepEqual(caller.violations.toArray(), []);
    } finally {
      await caller.stop();
    }
  });
});
