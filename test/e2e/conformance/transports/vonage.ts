/** Vonage Voice API WebSocket: binary L16 frames, notify → websocket:notify credit, clear flush. */
import fc from 'fast-check';
import { FakeVonageCaller, type FakeVonageCallerOptions } from '../../../fakes/vonage-caller.js';
import type { RunningGateway } from '../../harness.js';
import { parseVonageAudio, parseVonageText } from '../../../../src/transports/vonage/codec.js';
import { goldenWire } from '../fixtures.js';
import { jsonWireFuzz, textOf } from '../fuzz-json.js';
import type { ConformanceCaller, TransportUnderTest, WireMessage } from '../transport-under-test.js';
import { pacedCaller } from './media-stream-caller.js';

const goldens = ['connected', 'notify', 'cleared', 'dtmf'].map((name) => goldenWire('vonage', name));
/**
 * Fuzzed from every golden but `websocket:connected`: a mutation of it that stays valid is a second
 * connected, which ends the call by design (4004, like a second Twilio `start`); the codec tests
 * fuzz `websocket:connected` on its own (test/transports/vonage/codec.test.ts).
 */
const fuzzed = goldens.slice(1);
const frame = new Uint8Array(640);

function mediaUrl(gateway: RunningGateway): string {
  return `${gateway.baseUrl.replace(/^http/, 'ws')}/vonage/media`;
}

async function vonageCaller(url: string, options: FakeVonageCallerOptions): Promise<ConformanceCaller> {
  const caller = await FakeVonageCaller.connect(url, options);
  return pacedCaller(caller, (samples) => caller.speak8k(samples));
}

export const vonage: TransportUnderTest = {
  name: 'vonage',
  windowMs: 800,
  frameMs: 20,
  async connect(gateway, options = {}) {
    return vonageCaller(mediaUrl(gateway), { ...(options.headers ? { headers: options.headers } : {}) });
  },
  variants: [
    { label: 'L16 8 kHz', scenario: 'answer', connect: (r) => vonageCaller(mediaUrl(r), { rate: 8000 }) },
    // Whether Vonage echoes the notifies a clear dropped is not documented: not (the default) or this.
    { label: 'flushed notifies: notify-after-cleared', scenario: 'barge-in', connect: (r) => vonageCaller(mediaUrl(r), { onClear: 'notify-after-cleared' }) },
  ],
  garbage: [
    { text: '{not json' },
    textOf({ event: 'websocket:bogus' }),
    textOf({ event: 'websocket:notify' }),
    textOf({ event: 'websocket:dtmf', digit: 'x' }),
    { binary: new Uint8Array([1, 2, 3]) },
  ],
  codec: {
    parse(message: WireMessage) {
      if ('text' in message) {
        const result = parseVonageText(message.text);
        return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
      }
      const result = parseVonageAudio(message.binary.slice());
      return result.ok ? { ok: true, message: result.bytes } : { ok: false, code: result.error.code };
    },
    healthy: [textOf(goldens[0]!), { binary: frame }, ...goldens.slice(1).map(textOf)],
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: jsonWireFuzz(fuzzed) },
      { weight: 1, arbitrary: fc.nat(2000).map((size) => ({ binary: new Uint8Array(size) })) },
    ),
  },
};
