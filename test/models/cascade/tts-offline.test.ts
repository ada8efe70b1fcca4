// node:test's test()/describe() return promises that the runner itself awaits.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { isVoicewireError } from '../../../src/errors.js';
import {
  OfflineTts,
  offlineTtsInFlight,
  offlineTtsWaiting,
  resampleSentence,
  stopOfflineTtsWorker,
} from '../../../src/models/cascade/tts-offline.js';

const EIGHT_WORDS = 'The quick brown fox jumps over the lazy dog.';

async function collect(iterable: AsyncIterable<Int16Array>): Promise<Int16Array[]> {
  const chunks: Int16Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk.slice());
  return chunks;
}

function samplesOf(chunks: readonly Int16Array[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

function rmsOf(chunks: readonly Int16Array[]): number {
  let sum = 0;
  for (const c of chunks) for (const v of c) sum += v * v;
  return Math.sqrt(sum / Math.max(1, samplesOf(chunks)));
}

describe('OfflineTts (eSpeak NG wasm, worker thread)', () => {
  test('speaks eight words as 0.5–6 s of non-silent 24 kHz audio in chunks of at most 100 ms', async () => {
    const tts = new OfflineTts();
    assert.equal(tts.sampleRate, 24000);
    assert.equal(tts.name, 'espeak-ng/en-us');
    const chunks = await collect(tts.synthesize(EIGHT_WORDS));
    const seconds = samplesOf(chunks) / 24000;
    assert.ok(seconds > 0.5 && seconds < 6, `${seconds} s`);
    assert.ok(chunks.every((c) => c.length > 0 && c.length <= 2400));
    assert.ok(rmsOf(chunks) > 300, `rms ${rmsOf(chunks)}`);
  });

  test('16 kHz output lasts as long as 24 kHz output, and a faster rate speaks faster', async () => {
    const at24 = samplesOf(await collect(new OfflineTts().synthesize(EIGHT_WORDS))) / 24000;
    const at16 = samplesOf(await collect(new OfflineTts({ outputRate: 16000 }).synthesize(EIGHT_WORDS))) / 16000;
    assert.ok(Math.abs(at24 - at16) < 0.05, `${at24} s vs ${at16} s`);
    const fast = samplesOf(await collect(new OfflineTts({ wordsPerMinute: 300 }).synthesize(EIGHT_WORDS))) / 24000;
    assert.ok(fast < at24 * 0.8, `${fast} s at 300 wpm vs ${at24} s at 175 wpm`);
  });

  test('empty and whitespace-only text yield nothing', async () => {
    const tts = new OfflineTts();
    assert.deepEqual(await collect(tts.synthesize('')), []);
    assert.deepEqual(await collect(tts.synthesize('  \n\t ')), []);
  });

  test('an already aborted signal rejects with its reason before any audio', async () => {
    const controller = new AbortController();
    const reason = new Error('barge-in');
    controller.abort(reason);
    await assert.rejects(collect(new OfflineTts().synthesize(EIGHT_WORDS, { signal: controller.signal })), (err) => err === reason);
  });

  test('aborting after the first chunk rejects the next step with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('barge-in');
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const chunk of new OfflineTts().synthesize(EIGHT_WORDS, { signal: controller.signal })) {
        seen.push(chunk.length);
        controller.abort(reason);
      }
    };
    await assert.rejects(run(), (err) => err === reason);
    assert.equal(seen.length, 1);
  });

  test('concurrent requests are served one at a time in FIFO order, each complete', async () => {
    const tts = new OfflineTts();
    await tts.warmUp();
    const solo = samplesOf(await collect(tts.synthesize('Number one.')));
    const order: string[] = [];
    const run = async (label: string, text: string): Promise<number> => {
      const chunks: Int16Array[] = [];
      for await (const chunk of tts.synthesize(text)) {
        if (chunks.length === 0) order.push(label);
        chunks.push(chunk.slice());
      }
      return samplesOf(chunks);
    };
    const [a, b, c] = await Promise.all([run('a', 'Number one.'), run('b', 'Number two.'), run('c', 'Number three.')]);
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.ok(Math.abs(a - solo) < 200, `${a} vs ${solo}`);
    assert.ok(b > 0 && c > 0);
    assert.equal(offlineTtsWaiting(), 0);
  });

  test('beyond maxQueued waiting requests, a request fails with VW_ERR_TTS_BUSY', async () => {
    const tts = new OfflineTts({ maxQueued: 1 });
    await tts.warmUp();
    const results = await Promise.allSettled([
      collect(tts.synthesize('First.')),
      collect(tts.synthesize('Second.')),
      collect(tts.synthesize('Third.')),
    ]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'fulfilled');
    assert.equal(results[2].status, 'rejected');
    assert.ok(results[2].status === 'rejected' && isVoicewireError(results[2].reason, 'VW_ERR_TTS_BUSY'));
  });

  test('a request aborted while waiting for the engine leaves the queue with the reason', async () => {
    const tts = new OfflineTts();
    await tts.warmUp();
    const controller = new AbortController();
    const reason = new Error('hang-up');
    // Same path for both (each has a signal), so the second reaches the lock while the first holds it.
    const first = collect(tts.synthesize('This one holds the engine.', { signal: new AbortController().signal }));
    const second = collect(tts.synthesize('This one waits.', { signal: controller.signal }));
    // Let both reach the lock (microtasks only, so the first cannot finish): the second queues.
    for (let i = 0; i < 1000 && offlineTtsWaiting() === 0; i++) await Promise.resolve();
    assert.equal(offlineTtsWaiting(), 1);
    controller.abort(reason);
    await assert.rejects(second, (err) => err === reason);
    assert.equal(offlineTtsWaiting(), 0);
    assert.ok(samplesOf(await first) > 0);
  });

  test('text over maxChars and an unknown voice fail with their codes', async () => {
    await assert.rejects(collect(new OfflineTts({ maxChars: 10 }).synthesize('Far more than ten characters.')), (err) =>
      isVoicewireError(err, 'VW_ERR_TTS_TEXT_TOO_LONG'),
    );
    await assert.rejects(collect(new OfflineTts({ voice: 'xx-nonexistent' }).synthesize('Hello.')), (err) =>
      isVoicewireError(err, 'VW_ERR_TTS_VOICE'),
    );
    // The engine still works for a valid voice afterwards.
    assert.ok(samplesOf(await collect(new OfflineTts().synthesize('Hello.'))) > 0);
  });

  test('options out of range are RangeErrors', () => {
    assert.throws(() => new OfflineTts({ chunkMs: 150 }), RangeError);
    assert.throws(() => new OfflineTts({ wordsPerMinute: 10 }), RangeError);
    assert.throws(() => new OfflineTts({ deadlineMs: 0 }), RangeError);
  });

  test('the main thread runs other work while the worker speaks; in process it cannot', async () => {
    const firstOf = async (tts: OfflineTts): Promise<string[]> => {
      await tts.warmUp();
      const order: string[] = [];
      const iterator = tts.synthesize(EIGHT_WORDS)[Symbol.asyncIterator]();
      const first = iterator.next().then(() => order.push('audio'));
      // Queued after the request: it runs first only if the synthesis does not hold this thread.
      const immediate = new Promise<void>((resolve) => setImmediate(() => resolve(void order.push('immediate'))));
      await Promise.all([first, immediate]);
      await iterator.return(undefined);
      return order;
    };
    assert.deepEqual(await firstOf(new OfflineTts()), ['immediate', 'audio']);
    assert.deepEqual(await firstOf(new OfflineTts({ inProcess: true })), ['audio', 'immediate']);
  });

  test('in process and in the worker the same text gives audio of the same length and level', async () => {
    const worker = await collect(new OfflineTts({ outputRate: 16000 }).synthesize(EIGHT_WORDS));
    const local = await collect(new OfflineTts({ outputRate: 16000, inProcess: true }).synthesize(EIGHT_WORDS));
    // eSpeak carries a little state from sentence to sentence, so two engines differ by a few samples.
    assert.ok(Math.abs(samplesOf(worker) - samplesOf(local)) < 800, `${samplesOf(worker)} vs ${samplesOf(local)}`);
    assert.ok(Math.abs(rmsOf(worker) / rmsOf(local) - 1) < 0.1, `rms ${rmsOf(worker)} vs ${rmsOf(local)}`);
  });

  test('a worker lost mid-sentence fails that call with VW_ERR_TTS_ENGINE_FAILED; the next call gets a fresh worker', async () => {
    const tts = new OfflineTts();
    await tts.warmUp();
    const pending = collect(tts.synthesize(EIGHT_WORDS));
    for (let i = 0; i < 1000 && !offlineTtsInFlight(); i++) await Promise.resolve();
    assert.equal(offlineTtsInFlight(), true);
    const failed = assert.rejects(pending, (err) => isVoicewireError(err, 'VW_ERR_TTS_ENGINE_FAILED'));
    await stopOfflineTtsWorker();
    await failed;
    assert.equal(offlineTtsInFlight(), false);
    assert.ok(samplesOf(await collect(tts.synthesize(EIGHT_WORDS))) > 0);
  });

  test('aborting while the worker speaks rejects at once, and the engine stays taken until it answers', async () => {
    const tts = new OfflineTts();
    await tts.warmUp();
    const controller = new AbortController();
    const reason = new Error('barge-in');
    const pending = collect(tts.synthesize(EIGHT_WORDS, { signal: controller.signal }));
    for (let i = 0; i < 1000 && !offlineTtsInFlight(); i++) await Promise.resolve();
    assert.equal(offlineTtsInFlight(), true);
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    // Only microtasks ran since the abort: the worker's answer (a message) cannot have arrived.
    assert.equal(offlineTtsInFlight(), true);
    assert.ok(samplesOf(await collect(tts.synthesize('Next.'))) > 0);
    assert.equal(offlineTtsInFlight(), false);
  });

  test('a worker that misses its deadline is replaced and the call fails with VW_ERR_DEADLINE', async () => {
    // A fresh worker needs far more than 1 ms to load the engine, so the deadline passes first.
    await stopOfflineTtsWorker();
    await assert.rejects(collect(new OfflineTts({ deadlineMs: 1 }).synthesize('Too slow.')), (err) => isVoicewireError(err, 'VW_ERR_DEADLINE'));
    assert.equal(offlineTtsInFlight(), false);
    assert.ok(samplesOf(await collect(new OfflineTts().synthesize('In time.'))) > 0);
  });

  test('an idle worker does not keep the process alive', async () => {
    const script = [
      "import { OfflineTts } from './src/models/cascade/tts-offline.ts';",
      'let n = 0;',
      "for await (const c of new OfflineTts().synthesize('Goodbye.')) n += c.length;",
      'console.log(n);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error('the process was still alive after 30 s'));
      }, 30_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.equal(code, 0);
    assert.ok(Number(out.trim()) > 0, `printed ${out}`);
  });
});

describe('resampleSentence (22 050 → 24 000 / 16 000 Hz windowed sinc)', () => {
  function tone(rate: number, freq: number, seconds: number, amplitude: number): Int16Array {
    const x = new Int16Array(Math.round(rate * seconds));
    for (let i = 0; i < x.length; i++) x[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
    return x;
  }

  /** Amplitude of `freq` in `x` (single-bin DFT over the middle, away from the edges). */
  function amplitudeAt(x: Int16Array, rate: number, freq: number): number {
    const from = Math.floor(x.length / 4);
    const to = Math.floor((3 * x.length) / 4);
    let re = 0;
    let im = 0;
    for (let i = from; i < to; i++) {
      re += x[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
      im += x[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
    }
    return (2 * Math.hypot(re, im)) / (to - from);
  }

  for (const to of [24000, 16000]) {
    test(`to ${to} Hz keeps a 1 kHz tone's frequency and level and the duration`, () => {
      const x = tone(22050, 1000, 1, 10000);
      const y = resampleSentence(x, 22050, to);
      assert.ok(Math.abs(y.length / to - 1) < 0.001, `${y.length} samples`);
      assert.ok(Math.abs(amplitudeAt(y, to, 1000) - 10000) < 50, `amplitude ${amplitudeAt(y, to, 1000)}`);
      assert.ok(amplitudeAt(y, to, 1100) < 200);
    });
  }

  test('to 16 kHz removes content above the new Nyquist rate (9 kHz tone)', () => {
    const y = resampleSentence(tone(22050, 9000, 1, 10000), 22050, 16000);
    let sum = 0;
    for (let i = 4000; i < 12000; i++) sum += y[i]! ** 2;
    assert.ok(Math.sqrt(sum / 8000) < 10, `rms ${Math.sqrt(sum / 8000)}`);
  });

  test('output length is floor((n − 1)·L/M) + 1 and equal rates return the input (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (n) => {
        const x = new Int16Array(n).fill(1000);
        const y = resampleSentence(x, 22050, 24000);
        assert.equal(y.length, Math.floor(((n - 1) * 160) / 147) + 1);
        assert.equal(resampleSentence(x, 24000, 24000), x);
      }),
      { numRuns: 50 },
    );
  });
});
