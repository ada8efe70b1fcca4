/** SignalWire cXML `<Connect><Stream>` (Twilio-compatible media WebSocket), PCMU 8 kHz. */
import { connectSignalWireCaller } from '../../../fakes/signalwire-caller.js';
import { SIGNALWIRE_DIALECT } from '../../../../src/transports/signalwire/dialect.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { mediaStreamCaller } from './media-stream-caller.js';

const goldens = ['connected', 'start', 'media', 'mark', 'stop'].map((name) => goldenWire('signalwire', name));
const streamSid = 'c54c1b34-7efa-4fc5-8a56-16c41a8efb2b';

export const signalwire: TransportUnderTest = {
  name: 'signalwire',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = `${gateway.baseUrl.replace(/^http/, 'ws')}/signalwire/media`;
    return mediaStreamCaller(await connectSignalWireCaller(url, { ...(options.headers ? { headers: options.headers } : {}) }));
  },
  garbage: [
    { text: '{not json' },
    textOf({ event: 'nonsense', sequenceNumber: '9', streamSid }),
    textOf({ event: 'media', sequenceNumber: '10', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '/////w==' } }),
    textOf({ event: 'media', sequenceNumber: '11', streamSid: 'not a uuid!', media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '/////w==' } }),
    textOf({ event: 'mark', sequenceNumber: 12, streamSid, mark: { name: 'x' } }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if (!('text' in message)) return { ok: false, code: 'VW_ERR_BINARY_FRAME' };
      const result = SIGNALWIRE_DIALECT.parse(message.text, new Uint8Array(SIGNALWIRE_DIALECT.maxPayloadBytes));
      return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
    },
    healthy: goldens.map(textOf),
    arbitrary: jsonWireFuzz(goldens),
  },
};
