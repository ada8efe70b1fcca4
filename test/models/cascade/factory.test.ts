/**
 * createCascadeFactory: eager validation of the configuration, and one run with the real
 * defaults — EnergyVad, the embedded demo agent and the offline eSpeak TTS — from greeting to an
 * answered turn.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_MS, TWILIO_FORMAT } from '../../../src/audio/format.js';
import { encodeMulaw, mulawDecodeSample } from '../../../src/audio/mulaw.js';
import { isVoicewireError } from '../../../src/errors.js';
import type { CascadeSession } from '../../../src/models/cascade/cascade-session.js';
import { GREETING } from '../../../src/models/cascade/demo-script.js';
import { createCascadeFactory } from '../../../src/models/cascade/factory.js';
import { BOUNDS } from '../../../src/models/cascade/pipeline.js';
import { OfflineTts } from '../../../src/models/cascade/tts-offline.js';
import { createLogger, silentLogger } from '../../../src/server/logger.js';
import { FakeTts, Harness } from './harness.js';

describe('createCascadeFactory', () => {
  test('refuses a configuration without any TTS, with a bad bound or an unsupported TTS rate (VW_ERR_CONFIG)', () => {
    const logger = silentLogger();
    const config = (e: unknown): boolean => isVoicewireError(e, 'VW_ERR_CONFIG');
    assert.throws(() => createCascadeFactory({ stageTimeoutMs: 1000, logger }), config);
    assert.throws(() => createCascadeFactory({ stageTimeoutMs: 1000, logger, tts: new FakeTts(22050) }), config);
    assert.throws(() => createCascadeFactory({ stageTimeoutMs: 1000, logger, tts: new FakeTts(), bounds: { sentenceQueue: 0 } }), config);
    assert.throws(() => createCascadeFactory({ stageTimeoutMs: 1000, logger, tts: new FakeTts(), bounds: { maxUtteranceMs: Infinity } }), config);
    assert.throws(() => createCascadeFactory({ stageTimeoutMs: 0, logger, tts: new FakeTts() }), config);
  });

  test('makes a pausable "cascade" session per call; pino loggers are accepted', () => {
    const factory = createCascadeFactory({ stageTimeoutMs: 1000, logger: createLogger('silent'), tts: new FakeTts() });
    const a = factory({ callerFormat: TWILIO_FORMAT, callId: 'a' });
    const b = factory({ callerFormat: TWILIO_FORMAT, callId: 'b' });
    assert.notEqual(a, b);
    assert.equal(a.backend, 'cascade');
    assert.equal(a.pausable, true);
    a.close();
    b.close();
  });

  test('the bounds table is finite everywhere', () => {
    for (const [name, value] of Object.entries(BOUNDS)) assert.ok(Number.isFinite(value) && value > 0, name);
  });
});

describe('the defaults: EnergyVad + demo agent + offline TTS', () => {
  test('greets with real speech, hears a voiced turn and answers it', { timeout: 60_000 }, async () => {
    const tts = new OfflineTts();
    await tts.warmUp();
    const factory = createCascadeFactory({ stageTimeoutMs: 5000, logger: silentLogger(), tts, demo: { tokensPerSecond: 200, firstTokenDelayMs: 10 } });
    const cascade = factory({ callerFormat: TWILIO_FORMAT, callId: 'offline' }) as CascadeSession;
    const harness = new Harness({ speed: 50, bufferMs: 2000 });
    harness.attachTo(cascade);
    let peak = 0;
    const audio = harness.audio.bind(harness);
    harness.audio = (chunk) => {
      for (const b of chunk.bytes) peak = Math.max(peak, Math.abs(mulawDecodeSample(b)));
      return audio(chunk);
    };
    try {
      await cascade.connect();
      await harness.waitFor(() => harness.responses().length >= 1, 5000, 'greeting');
      const greeting = harness.responses()[0]!;
      await harness.waitFor(() => harness.done(greeting) !== undefined, 30_000, 'greeting spoken');
      assert.equal(harness.done(greeting)?.status, 'completed');
      assert.equal(harness.said(greeting).replace(/\s+/g, ' '), GREETING);
      assert.ok(peak > 2000, `the greeting is audible (peak ${peak})`);

      // A voiced burst after quiet: the real VAD ends the turn, the agent answers.
      let t = 0;
      const send = (ms: number, voiced: boolean): void => {
        for (let done = 0; done < ms; done += FRAME_MS, t += 160) {
          const pcm = new Int16Array(160);
          for (let i = 0; i < 160; i++) {
            const s = (t + i) / 8000;
            pcm[i] = voiced ? Math.round(6000 * (Math.sin(2 * Math.PI * 150 * s) + 0.5 * Math.sin(2 * Math.PI * 450 * s))) : ((t + i) % 7) - 3;
          }
          const bytes = new Uint8Array(160);
          encodeMulaw(pcm, bytes);
          cascade.appendAudio(bytes, FRAME_MS);
        }
      };
      send(600, false);
      send(1000, true);
      send(900, false);
      await harness.waitFor(() => harness.responses().length >= 2, 5000, 'answer started');
      const answer = harness.responses()[1]!;
      await harness.waitFor(() => harness.done(answer) !== undefined, 30_000, 'answer spoken');
      assert.match(harness.said(answer), /I heard you speak for (0\.9|1\.0|1\.1) seconds/);
    } finally {
      cascade.close();
      harness.stop();
    }
  });
});
