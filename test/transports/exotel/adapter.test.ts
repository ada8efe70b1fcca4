/**
 * ExotelTransport over a real socket with the fake Exotel caller: PCM16 positions, 320-byte
 * outbound units, and flow control that is right whatever `clear` does to pending marks (Exotel's
 * docs are silent: echoed in order, in reverse, or dropped).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectExotelCaller } from '../../fakes/exotel-caller.js';
import type { FakeTwilioCaller } from '../../fakes/twilio-caller.js';
import type { ClearMarkPolicy } from '../../fakes/twilio-player.js';
import { ExotelTransport } from '../../../src/transports/exotel/adapter.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import { rigOf, type Recorder, type Rig } from '../twilio/helpers.js';

const rigs: Array<Rig<ExotelTransport>> = [];
after(() => rigs.forEach((r) => r.close()));

async function connect(options: Parameters<typeof connectExotelCaller>[1] = {}): Promise<{ transport: ExotelTransport; recorder: Recorder; caller: FakeTwilioCaller }> {
  const r = await rigOf((ws, o) => new ExotelTransport(ws, o));
  rigs.push(r);
  const server = r.next();
  const caller = await connectExotelCaller(r.url, { sendSilence: false, ...options });
  const { transport, recorder } = await server;
  await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
  return { transport, recorder, caller };
}

/** PCM16 bytes for `ms` at 8 kHz (16 per ms), with a recognisable value. */
function pcm(ms: number, value = 0x11): Uint8Array {
  return new Uint8Array(ms * 16).fill(value);
}

function mediaSizes(caller: FakeTwilioCaller): number[] {
  return caller.received.toArray().filter((e) => e.event === 'media').map((e) => e.bytes ?? 0);
}

void describe('ExotelTransport', () => {
  void test('start announces PCM16 at the applet sample rate; caller audio arrives in ms of PCM16', async () => {
    const { recorder, caller } = await connect({ customParameters: { key1: 'value1' } });
    assert.deepEqual(recorder.of('start')[0]?.info, { callId: caller.callSid, streamId: caller.streamSid, parameters: { key1: 'value1' }, format: { encoding: 'pcm16', sampleRate: 8000 } });
    caller.sendMediaBytes(new Uint8Array(320));
    await recorder.waitFor(() => recorder.of('audio').length === 1, 5000, 'audio');
    assert.equal(recorder.of('audio')[0]?.durationMs, 20);
    await caller.stop();
  });

  void test('a 16 kHz applet (start sample_rate "16000") gives a 16 kHz call with marks every 200 ms of it', async () => {
    const { recorder, caller, transport } = await connect({ startOverrides: { media_format: { encoding: 'audio/x-raw', sample_rate: '16000', bit_rate: '16' } } });
    assert.deepEqual(recorder.of('start')[0]?.info.format, { encoding: 'pcm16', sampleRate: 16000 });
    // Two 200 ms pieces, as the session sends them: one media message and one mark each.
    for (let i = 0; i < 2; i++) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: new Uint8Array(32 * 200), durationMs: 200 });
    await caller.waitUntil(() => caller.received.toArray().filter((e) => e.event === 'mark').length === 2, 5000, 'two marks');
    assert.deepEqual(mediaSizes(caller), [6400, 6400]);
    await caller.stop();
  });

  void test('odd-sized pieces go out in whole 320-byte units; a sentence end pads its tail, and positions count only real audio', async () => {
    const { recorder, caller, transport } = await connect();
    // 7 pieces of 33.5 ms: 536 bytes each, never a multiple of 320.
    for (let i = 0; i < 7; i++) transport.sendAudio({ epoch: 0, sentenceId: 1, bytes: pcm(34).subarray(0, 536), durationMs: 33.5 });
    transport.endSentence(0, 1);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'the sentence played');
    const sizes = mediaSizes(caller);
    assert.ok(sizes.every((n) => n % 320 === 0), `sizes ${sizes.join(',')}`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), Math.ceil((7 * 536) / 320) * 320);
    assert.equal(transport.stats().paddingBytes, Math.ceil((7 * 536) / 320) * 320 - 7 * 536);
    // The sentence mark's position is the real audio (3752 bytes = 234.5 ms, rounded down), not the padding.
    const sentenceMark = caller.received.toArray().find((e) => e.event === 'mark' && parseMarkName(e.name ?? '')?.sentenceId === 1);
    assert.equal(parseMarkName(sentenceMark?.name ?? '')?.positionMs, 234);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });

  for (const policy of ['echo', 'echo-reversed', 'drop'] as const satisfies readonly ClearMarkPolicy[]) {
    void test(`when clear ${policy === 'drop' ? 'drops pending marks' : policy === 'echo' ? 'echoes pending marks in order' : 'echoes pending marks in reverse'}, no flushed mark counts as played and the next epoch is confirmed`, async () => {
      const { recorder, caller, transport } = await connect({ clearMarks: policy });
      for (let i = 0; i < 10; i++) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(200), durationMs: 200 });
      await recorder.waitFor(() => recorder.of('played').length >= 2, 5000, 'two confirmations');
      transport.clear(1);
      const playedAtClear = caller.playedMs;
      const epoch0Confirmed = Math.max(...recorder.of('played').filter((p) => p.epoch === 0).map((p) => p.ms));
      transport.sendAudio({ epoch: 1, sentenceId: 3, bytes: pcm(200), durationMs: 200 });
      transport.sendAudio({ epoch: 1, sentenceId: 3, bytes: pcm(100), durationMs: 100 });
      transport.endSentence(1, 3);
      await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'the post-clear sentence');
      const epoch0 = recorder.of('played').filter((p) => p.epoch === 0);
      assert.ok(Math.max(...epoch0.map((p) => p.ms)) <= Math.max(epoch0Confirmed, playedAtClear), 'no epoch-0 position past what was heard');
      assert.equal(caller.echoesBy('clear').length, policy === 'drop' ? 0 : transport.stats().echoesFlushed);
      // The mark right behind the clear (0 ms: the caller is silent), a periodic one at 200 ms, the
      // sentence's at 300 ms: all of the new epoch, all really played.
      assert.deepEqual(recorder.of('played').filter((p) => p.epoch === 1).map((p) => p.ms), [0, 200, 300]);
      assert.deepEqual(recorder.of('sentencePlayed').map((p) => [p.epoch, p.sentenceId]), [[1, 3]]);
      assert.deepEqual(caller.violations.toArray(), []);
      await caller.stop();
    });
  }

  void test('a clear drops the held remainder: nothing of the old epoch is sent after it', async () => {
    const { caller, transport } = await connect();
    transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: pcm(10), durationMs: 10 }); // 160 bytes: held
    transport.clear(1);
    transport.sendAudio({ epoch: 1, sentenceId: 0, bytes: pcm(20, 0x22), durationMs: 20 });
    await caller.waitUntil(() => caller.playedMs >= 20, 5000, 'the new epoch played');
    assert.deepEqual(mediaSizes(caller), [320]);
    const heard = caller.playedAudio();
    assert.equal(heard.length, 320);
    assert.ok(heard.every((b) => b === 0x22), 'only the new epoch was heard');
    await caller.stop();
  });
});
