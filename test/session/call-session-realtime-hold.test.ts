/**
 * A CallSession over the real OpenAI Realtime client and the fake Realtime server: a barge-in
 * whose clear is never confirmed settles at the deadline, and the deadline path ends the hold on
 * auto-created answers just like the marker path (truncate first, then create_response back on).
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { afterEach, describe, test } from 'node:test';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { OpenAIRealtimeSession } from '../../src/models/openai-realtime/client.js';
import { silentLogger } from '../../src/server/logger.js';
import { CallSession } from '../../src/session/call-session.js';
import type { BargeInReport } from '../../src/session/observer.js';
import type { OutboundAudio } from '../../src/transports/transport.js';
import { FakeRealtimeServer } from '../fakes/realtime-server.js';
import { RecordingTransport } from './fakes.js';

/** RecordingTransport that announces each audio chunk, so a test can wait for some to go out. */
class AnnouncingTransport extends RecordingTransport {
  readonly sent = new EventEmitter();
  override sendAudio(chunk: OutboundAudio): void {
    super.sendAudio(chunk);
    this.sent.emit('audio');
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('CallSession + OpenAI Realtime: the hold on auto-created answers', () => {
  test('a barge-in settled at the deadline truncates, then turns create_response back on', async () => {
    const fake = await FakeRealtimeServer.start({ answerMs: 20_000, speedFactor: 5 });
    cleanups.push(() => fake.close());
    const transport = new AnnouncingTransport();
    const reports: BargeInReport[] = [];
    const reported = new EventEmitter();
    const session = new CallSession({
      transport,
      createModel: (o) => new OpenAIRealtimeSession({ callerFormat: o.callerFormat, apiKey: 'test-key', url: fake.url(), reconnect: { attempts: 1, backoffMs: 20 }, connectTimeoutMs: 3_000 }),
      logger: silentLogger(),
      creditWindowMs: 800,
      maxQueuedAudioMs: 120_000,
      truncateDeadlineMs: 100,
      observer: { bargeIn: (r) => (reports.push(r), reported.emit('report')) },
    });
    cleanups.push(() => session.end('test'));
    transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
    await fake.waitFor(() => fake.log.sessionUpdates.length === 1, 'the handshake update');
    assert.notEqual(fake.respond(), undefined);
    const deadline = AbortSignal.timeout(5_000);
    while (transport.sentMs() < 200) await once(transport.sent, 'audio', { signal: deadline });

    const settled = once(reported, 'report', { signal: deadline });
    fake.emitSpeechStarted(); // the caller barges in; the clear is never confirmed
    await settled;
    await fake.waitFor(() => fake.log.sessionUpdates.length === 3, 'the restoring update');

    assert.equal(reports[0]!.truncateSource, 'deadline');
    const order = fake.log.received.map((r) => r.type).filter((t) => t !== 'input_audio_buffer.append');
    assert.deepEqual(order, ['session.update', 'response.cancel', 'session.update', 'conversation.item.truncate', 'session.update']);
    const createResponse = fake.log.sessionUpdates.map((s) => (s as { audio: { input: { turn_detection: { create_response: boolean } } } }).audio.input.turn_detection.create_response);
    assert.deepEqual(createResponse, [true, false, true]);
    assert.equal(fake.log.truncates.length, 1);
    assert.equal(fake.log.truncates[0]!.audioEndMs, reports[0]!.truncate!.audioEndMs);
  });
});
