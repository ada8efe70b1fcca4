/** The browser protocol (voicewire v1: JSON control messages + binary PCM16 frames). */
import fc from 'fast-check';
import { FakeBrowserClient } from '../../../fakes/browser-client.js';
import { mintBrowserUrl } from '../../browser/session.js';
import { decodeClientMessage, encodeControl } from '../../../../src/transports/browser/codec.js';
import { decodeFrame, encodeFrame, int16ToPcm } from '../../../../src/transports/browser/frames.js';
import { PROTOCOL_VERSION } from '../../../../src/transports/browser/messages.js';
import { jsonWireFuzz } from '../fuzz-json.js';
import type { ConformanceCaller, TransportUnderTest, WireMessage } from '../transport-under-test.js';

const WINDOW_MS = 800;
const MIC_RATE = 16_000;
/** Silence after an utterance so the model's VAD ends the turn (a browser mic streams continuously). */
const TRAILING_SILENCE_MS = 700;

/** 8 kHz speech to the 16 kHz mic rate by repeating samples (a tone stays a tone for any VAD). */
function to16k(samples8k: Int16Array): Int16Array {
  const out = new Int16Array(samples8k.length * 2 + (TRAILING_SILENCE_MS * MIC_RATE) / 1000);
  for (let i = 0; i < samples8k.length; i++) out[2 * i] = out[2 * i + 1] = samples8k[i] ?? 0;
  return out;
}

function browserCaller(client: FakeBrowserClient): ConformanceCaller {
  return {
    get playedMs() {
      return client.heardSince(0);
    },
    get maxBufferedMs() {
      return client.maxBufferedMs;
    },
    get clears() {
      return client.clears;
    },
    get isOpen() {
      return client.closeInfo === undefined;
    },
    get closeCode() {
      return client.closeInfo?.code;
    },
    // PlayerCore counts an underrun only while a sentence is still open (more audio expected).
    underrunsWhileSpeaking: () => client.core.counters.underruns,
    violations: () => [
      ...(client.protocolErrors > 0 ? [`protocol errors: ${client.protocolErrors}`] : []),
      ...(client.core.counters.framesOverflow > 0 ? [`frames over the window: ${client.core.counters.framesOverflow}`] : []),
      ...(client.stalePlayedSamples > 0 ? [`stale samples played: ${client.stalePlayedSamples}`] : []),
      ...client.errors.map((e) => `error message: ${e.code}`),
    ],
    now: () => client.now(),
    heardSince: (t) => client.heardSince(t),
    sendSpeech: (samples) => client.sendMic(to16k(samples)),
    waitUntil: (check, timeoutMs, what) => client.waitUntil(check, timeoutMs, what),
    sendWire: (message: WireMessage) => ('text' in message ? client.sendRaw(message.text) : client.sendRaw(message.binary)),
    stop: async () => {
      await client.bye().catch(() => client.ws.terminate());
    },
    terminate: () => client.ws.terminate(),
  };
}

const micFrame = encodeFrame({ kind: 'mic', sampleRate: MIC_RATE, epoch: 0, seq: 0, sentenceId: 0, pcm: int16ToPcm(new Int16Array(320)) });
const goldens: object[] = [
  { type: 'hello', version: PROTOCOL_VERSION, playbackRate: 24000, micRate: MIC_RATE, windowMs: WINDOW_MS },
  { type: 'played', epoch: 0, playedMs: 120 },
  { type: 'sentence_played', epoch: 0, sentenceId: 1 },
  { type: 'pong', id: 1, t: 12.5 },
  { type: 'bye', reason: 'done' },
];

export const browser: TransportUnderTest = {
  name: 'browser',
  windowMs: WINDOW_MS,
  frameMs: 20,
  async connect(gateway, options = {}) {
    const url = await mintBrowserUrl(gateway.baseUrl);
    return browserCaller(await FakeBrowserClient.connect(url, { windowMs: WINDOW_MS, ...(options.headers ? { headers: options.headers } : {}) }));
  },
  garbage: [
    { text: '{not json' },
    { text: encodeControl({ type: 'played', epoch: 0, playedMs: 10 }).replace('"played"', '"nonsense"') },
    { text: '{"type":"played","epoch":-1,"playedMs":"x"}' },
    { binary: new Uint8Array([1, 2, 3]) },
    { binary: micFrame.slice(0, micFrame.length - 1) },
  ],
  codec: {
    parse(message: WireMessage) {
      if ('text' in message) {
        const result = decodeClientMessage(message.text);
        return result.ok ? { ok: true, message: result.message } : { ok: false, code: result.error.code };
      }
      const result = decodeFrame(message.binary, { kind: 'mic' });
      return result.ok ? { ok: true, message: { ...result.frame, pcm: result.frame.pcm.slice() } } : { ok: false, code: result.error.code };
    },
    healthy: [...goldens.map((m) => ({ text: JSON.stringify(m) })), { binary: micFrame }],
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: jsonWireFuzz(goldens) },
      { weight: 1, arbitrary: fc.tuple(fc.nat(micFrame.length), fc.nat(255), fc.nat()).map(([at, value, cut]) => {
        const bytes = micFrame.slice(0, Math.max(1, micFrame.length - (cut % 8)));
        bytes[at % bytes.length] = value;
        return { binary: bytes };
      }) },
    ),
  },
};
