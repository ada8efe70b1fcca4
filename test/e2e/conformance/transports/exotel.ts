/** Exotel AgentStream (Voicebot applet): PCM16 8 kHz, 320-byte outbound units, clear's marks undocumented (the fake drops them). */
import { connectExotelCaller } from '../../../fakes/exotel-caller.js';
import { EXOTEL_MAX_PAYLOAD_BYTES, parseExotelMessage } from '../../../../src/transports/exotel/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { mediaStreamCaller } from './media-stream-caller.js';

const goldens = ['connected', 'start', 'media', 'mark', 'dtmf', 'stop'].map((name) => goldenWire('exotel', name));
const streamSid = 'MZ0000000000';

export const exotel: TransportUnderTest = {
  name: 'exotel',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = `${gateway.baseUrl.replace(/^http/, 'ws')}/exotel/media`;
    return mediaStreamCaller(await connectExotelCaller(url, { ...(options.headers ? { headers: options.headers } : {}) }));
  },
  garbage: [
    { text: '{not json' },
    textOf({ event: 'nonsense', sequence_number: '9', stream_sid: streamSid }),
    textOf({ event: 'media', sequence_number: '10', stream_sid: streamSid, media: { payload: 'AAAA' } }),
    textOf({ event: 'media', sequence_number: '11', media: { payload: '@@@@' } }),
    textOf({ event: 'media', sequence_number: '12', stream_sid: streamSid, media: { payload: 'AA==' } }),
    textOf({ event: 'dtmf', sequence_number: 13, stream_sid: streamSid, dtmf: { digit: '5' } }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if (!('text' in message)) return { ok: false, code: 'VW_ERR_BINARY_FRAME' };
      const result = parseExotelMessage(message.text, new Uint8Array(EXOTEL_MAX_PAYLOAD_BYTES));
      return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
    },
    healthy: goldens.map(textOf),
    arbitrary: jsonWireFuzz(goldens),
  },
};
