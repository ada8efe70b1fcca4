/** Telnyx Media Streaming (TeXML `<Stream bidirectionalMode="rtp">`), PCMU 8 kHz. */
import { connectTelnyxCaller } from '../../../fakes/telnyx-caller.js';
import { TELNYX_MAX_PAYLOAD_BYTES, parseTelnyxMessage } from '../../../../src/transports/telnyx/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { mediaStreamCaller } from './media-stream-caller.js';

const goldens = ['connected', 'start', 'media', 'mark', 'dtmf', 'error', 'stop'].map((name) => goldenWire('telnyx', name));
const streamId = '32DE0DEA-53CB-4B21-89A4-9E1819C043BC';

export const telnyx: TransportUnderTest = {
  name: 'telnyx',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = `${gateway.baseUrl.replace(/^http/, 'ws')}/telnyx/media`;
    return mediaStreamCaller(await connectTelnyxCaller(url, { ...(options.headers ? { headers: options.headers } : {}) }));
  },
  garbage: [
    { text: '{not json' },
    textOf({ event: 'transcription', sequence_number: '9', stream_id: streamId }),
    textOf({ event: 'media', sequence_number: '10', stream_id: streamId, media: { track: 'inbound', payload: '/////w==' } }),
    textOf({ event: 'media', sequence_number: '11', media: { track: 'inbound', payload: '@@@@' } }),
    textOf({ event: 'media', sequence_number: 12, stream_id: streamId, media: { payload: '' } }),
    textOf({ event: 'dtmf', sequence_number: '13', stream_id: streamId, dtmf: { digit: 'Z' } }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if (!('text' in message)) return { ok: false, code: 'VW_ERR_BINARY_FRAME' };
      const result = parseTelnyxMessage(message.text, new Uint8Array(TELNYX_MAX_PAYLOAD_BYTES));
      return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
    },
    healthy: goldens.map(textOf),
    arbitrary: jsonWireFuzz(goldens),
  },
};
