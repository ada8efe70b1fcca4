/**
 * The caller side: μ-law/PCM16 decoded, resampled to 16 kHz, turn-taking by the VAD, utterances
 * bounded (pre-roll kept, speech beyond the bound cut), and the real EnergyVad on synthetic speech.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EnergyVad } from '../../../src/audio/vad.js';
import { TWILIO_FORMAT, PCM16_24K, FRAME_MS } from '../../../src/audio/format.js';
import { CallerListener, type VadFactory } from '../../../src/models/cascade/listener.js';
import type { Utterance } from '../../../src/models/cascade/stt.js';
import { encodeMulaw } from '../../../src/audio/mulaw.js';
import { UtteranceRecorder, joinUtterances, levelDbfs } from '../../../src/models/cascade/utterance.js';
import { FakeVad, callerFrames } from './harness.js';

function listen(createVad: VadFactory, format = TWILIO_FORMAT, maxUtteranceMs = 30_000) {
  const events: Array<{ type: string; detectionMs?: number; utterance?: Utterance }> = [];
  const listener = new CallerListener(
    { format, createVad, preRollMs: 300, maxUtteranceMs },
    {
      speechStarted: (detectionMs) => events.push({ type: 'start', detectionMs }),
      speechStopped: (utterance) => events.push({ type: 'stop', utterance }),
    },
  );
  const feed = (ms: number, loud: boolean): void => {
    for (const f of callerFrames(format, ms, loud)) listener.push(f);
  };
  return { listener, events, feed };
}

describe('CallerListener', () => {
  test('μ-law 8 kHz: speech start, then an utterance at 16 kHz with its pre-roll', () => {
    const { events, feed } = listen(({ sampleRate }) => new FakeVad(sampleRate, 100));
    feed(400, false);
    feed(1000, true);
    feed(200, false);
    assert.deepEqual(events.map((e) => e.type), ['start', 'stop']);
    const u = events[1]!.utterance!;
    assert.equal(u.sampleRate, 16000);
    // The resampler's delay stretches the loud part by up to one 20 ms chunk.
    assert.ok(u.durationMs >= 1000 && u.durationMs <= 1020, `${u.durationMs} ms`);
    // 300 ms pre-roll + 1000 ms of speech + 100 ms until the VAD's speech-end (+ the delay).
    assert.ok(u.samples.length >= 16 * 1400 && u.samples.length <= 16 * 1420, `${u.samples.length} samples`);
    assert.ok(u.levelDbfs > -30 && u.levelDbfs < 0);
    assert.equal(u.truncated, false);
  });

  test('PCM16 24 kHz input works too', () => {
    const { events, feed } = listen(({ sampleRate }) => new FakeVad(sampleRate, 100), PCM16_24K);
    feed(500, true);
    feed(200, false);
    assert.deepEqual(events.map((e) => e.type), ['start', 'stop']);
  });

  test('speech longer than the bound is cut: the utterance holds maxUtteranceMs and says so', () => {
    const { events, feed } = listen(({ sampleRate }) => new FakeVad(sampleRate, 100), TWILIO_FORMAT, 1000);
    feed(3000, true);
    feed(200, false);
    const u = events.find((e) => e.type === 'stop')!.utterance!;
    assert.equal(u.samples.length, 16000);
    assert.equal(u.truncated, true);
    assert.ok(u.durationMs >= 3000 && u.durationMs <= 3020, `${u.durationMs} ms`);
  });

  test('the real EnergyVad finds a voiced burst after background noise', () => {
    const { events, listener } = listen(({ sampleRate }) => new EnergyVad({ sampleRate }));
    // Deterministic low noise, then a voiced 150 Hz + harmonics burst, then noise again.
    let seed = 7;
    const noise = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed / 0x7fffffff - 0.5) * 60;
    };
    const frame = (voiced: boolean, t0: number): Int16Array => {
      const out = new Int16Array(160);
      for (let i = 0; i < 160; i++) {
        const t = (t0 + i) / 8000;
        const voice = voiced ? 6000 * (Math.sin(2 * Math.PI * 150 * t) + 0.5 * Math.sin(2 * Math.PI * 450 * t) + 0.3 * Math.sin(2 * Math.PI * 900 * t)) : 0;
        out[i] = Math.round(voice + noise());
      }
      return out;
    };
    let t = 0;
    // μ-law frames, as Twilio sends them.
    const send = (ms: number, voiced: boolean): void => {
      for (let done = 0; done < ms; done += FRAME_MS, t += 160) {
        const bytes = new Uint8Array(160);
        encodeMulaw(frame(voiced, t), bytes);
        listener.push(bytes);
      }
    };
    send(1000, false);
    send(800, true);
    send(1200, false);
    assert.deepEqual(events.map((e) => e.type), ['start', 'stop']);
    const u = events[1]!.utterance!;
    assert.ok(u.durationMs >= 600 && u.durationMs <= 1000, `speech of ${u.durationMs} ms`);
    assert.ok((events[0]!.detectionMs ?? -1) >= 0);
  });
});

describe('UtteranceRecorder', () => {
  test('keeps at most the pre-roll before speech starts, whatever was fed before', () => {
    const recorder = new UtteranceRecorder({ sampleRate: 1000, preRollMs: 10, maxUtteranceMs: 100 });
    recorder.push(Int16Array.from({ length: 25 }, (_, i) => i));
    recorder.push(Int16Array.from([25, 26]));
    recorder.start();
    recorder.push(Int16Array.from([100]));
    assert.deepEqual([...recorder.finish(0).samples], [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 100]);
  });

  test('joinUtterances stays within the bound; levelDbfs of silence is -Infinity', () => {
    const a: Utterance = { samples: new Int16Array(6).fill(100), sampleRate: 1000, durationMs: 6, levelDbfs: 0, truncated: false };
    const joined = joinUtterances(a, a, 8);
    assert.equal(joined.samples.length, 8);
    assert.equal(joined.truncated, true);
    assert.equal(joined.durationMs, 12);
    assert.equal(levelDbfs(new Int16Array(4)), -Infinity);
  });
});
