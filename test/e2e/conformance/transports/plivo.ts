/** Plivo Audio Streams (bidirectional `<Stream>`): checkpoint → playedStream credit, clearAudio flush. */
import { FakePlivoCaller } from '../../../fakes/plivo-caller.js';
import type { PacedCaller } from '../../../fakes/paced-caller.js';
import { MAX_MEDIA_PAYLOAD_BYTES, parsePlivoMessage } from '../../../../src/transports/plivo/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { ConformanceCaller, TransportUnderTest, WireMessage } from '../transport-under-test.js';

const goldens = ['start', 'media', 'dtmf', 'playedStream', 'clearedAudio'].map((name) => goldenWire('plivo', name));
const otherStream = '00000000-0000-0000-0000-000000000000';

/** The conformance view of a fake carrier caller built on PacedCaller (Plivo, Vonage). */
export function pacedCaller(caller: PacedCaller, speak8k: (samples: Int16Array) => Promise<void>, stop: () => Promise<void>): ConformanceCaller {
  return {
    get playedMs() {
      return caller.playedMs;
    },
    get maxBufferedMs() {
      return caller.maxBufferedMs;
    },
    get clears() {
      return caller.clears.total;
    },
    get isOpen() {
      return caller.isOpen;
    },
    get closeCode() {
      return caller.closeInfo?.code;
    },
    underrunsWhileSpeaking: () => caller.underrunsWhileSpeaking(),
    violations: () => caller.violations.toArray().map((v) => `${v.kind}: ${v.detail}`),
    now: () => caller.now(),
    heardSince: (t) => caller.heardSince(t),
    // The fakes stream silence between utterances, as the carriers do: a VAD sees the turn end.
    sendSpeech: speak8k,
    waitUntil: (check, timeoutMs, what) => caller.waitUntil(check, timeoutMs, what),
    sendWire: (message: WireMessage) => caller.sendRaw('text' in message ? message.text : message.binary),
    stop,
    terminate: () => caller.terminate(),
  };
}

export const plivo: TransportUnderTest = {
  name: 'plivo',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = `${gateway.baseUrl.replace(/^http/, 'ws')}/plivo/media`;
    const caller = await FakePlivoCaller.connect(url, { ...(options.headers ? { headers: options.headers } : {}) });
    return pacedCaller(caller, (samples) => caller.speak8k(samples), () => caller.stop());
  },
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
