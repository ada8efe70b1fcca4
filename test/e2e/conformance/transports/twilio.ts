/** Twilio Media Streams (bidirectional `<Connect><Stream>`): the reference carrier. */
import { FakeTwilioCaller } from '../../../fakes/twilio-caller.js';
import { MAX_MEDIA_PAYLOAD_BYTES, parseTwilioMessage } from '../../../../src/transports/twilio/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { mediaStreamCaller } from './media-stream-caller.js';

const goldens = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop'].map((name) => goldenWire('twilio', name));
const streamSid = 'MZ' + '0'.repeat(32);

export const twilio: TransportUnderTest = {
  name: 'twilio',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = `${gateway.baseUrl.replace(/^http/, 'ws')}/twilio/media`;
    return mediaStreamCaller(await FakeTwilioCaller.connect(url, { ...(options.headers ? { headers: options.headers } : {}) }));
  },
  garbage: [
    { text: '{not json' },
    textOf({ event: 'nonsense', sequenceNumber: '9' }),
    textOf({ event: 'media', sequenceNumber: '10', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '/////w==' } }),
    textOf({ event: 'media', sequenceNumber: '11', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '@@@@' } }),
    textOf({ event: 'media', sequenceNumber: 12, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '' } }),
    textOf({ event: 'mark', sequenceNumber: '13', mark: {} }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if (!('text' in message)) return { ok: false, code: 'VW_ERR_BINARY_FRAME' };
      const result = parseTwilioMessage(message.text, new Uint8Array(MAX_MEDIA_PAYLOAD_BYTES));
      return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
    },
    healthy: goldens.map(textOf),
    arbitrary: jsonWireFuzz(goldens),
  },
};
