/** Plivo Audio Streams (bidirectional `<Stream>`): checkpoint → playedStream credit, clearAudio flush. */
import { FakePlivoCaller, type FakePlivoCallerOptions } from '../../../fakes/plivo-caller.js';
import type { RunningGateway } from '../../harness.js';
import { MAX_MEDIA_PAYLOAD_BYTES, parsePlivoMessage } from '../../../../src/transports/plivo/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { ConformanceCaller, TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { pacedCaller } from './media-stream-caller.js';

const goldens = ['start', 'media', 'dtmf', 'playedStream', 'clearedAudio'].map((name) => goldenWire('plivo', name));
const otherStream = '00000000-0000-0000-0000-000000000000';

function mediaUrl(gateway: RunningGateway): string {
  return `${gateway.baseUrl.replace(/^http/, 'ws')}/plivo/media`;
}

async function plivoCaller(url: string, options: FakePlivoCallerOptions): Promise<ConformanceCaller> {
  const caller = await FakePlivoCaller.connect(url, options);
  return pacedCaller(caller, (samples) => caller.speak8k(samples));
}

export const plivo: TransportUnderTest = {
  name: 'plivo',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = mediaUrl(gateway);
    return plivoCaller(url, { ...(options.headers ? { headers: options.headers } : {}) });
  },
  // μ-law passes through to a μ-law model; L16 16 kHz goes through the resampler to PCM16 24 kHz.
  modelOutputFormat: { type: 'audio/pcmu' },
  variants: [
    { label: 'l16-16000', scenario: 'answer', connect: (r) => plivoCaller(mediaUrl(r), { format: 'l16-16000' }), modelOutputFormat: { type: 'audio/pcm', rate: 24000 } },
    // What Plivo does with the checkpoints a clearAudio dropped is not documented: silence (the default) or this.
    { label: 'flushed checkpoints: ack-after-cleared', scenario: 'barge-in', connect: (r) => plivoCaller(mediaUrl(r), { onClear: 'ack-after-cleared' }) },
  ],
  garbage: [
    { text: '{not json' },
    textOf({ event: 'hangup', streamId: otherStream }),
    textOf({ event: 'media', sequenceNumber: 9, streamId: otherStream, media: { track: 'inbound', timestamp: '1', chunk: 1, payload: '/////w==' } }),
    textOf({ event: 'media', sequenceNumber: 10, media: { track: 'inbound', timestamp: '1', chunk: 1, payload: '@@@@' } }),
    textOf({ event: 'media', sequenceNumber: 11, media: { track: 'inbound', timestamp: '1', chunk: 1, payload: '' } }),
    textOf({ event: 'playedStream', sequenceNumber: 12 }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if (!('text' in message)) return { ok: false, code: 'VW_ERR_BINARY_FRAME' };
      const result = parsePlivoMessage(message.text, { mediaOut: new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES) });
      return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
    },
    healthy: goldens.map(textOf),
    arbitrary: jsonWireFuzz(goldens),
  },
};
