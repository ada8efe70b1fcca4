/**
 * The conformance view of a fake media-stream caller (Twilio and the carriers whose protocol is
 * modelled by the same fake with another wire dialect: test/fakes/twilio-caller.ts).
 */
import type { FakeTwilioCaller } from '../../../fakes/twilio-caller.js';
import type { ConformanceCaller, WireMessage } from '../transport-under-test.js';

/** Underruns that began while the model still had audio on its way (before the last media arrived). */
function underrunsWhileSpeaking(caller: FakeTwilioCaller): number {
  const media = caller.received.toArray().filter((r) => r.event === 'media');
  const last = media.at(-1)?.at ?? 0;
  return caller.underruns.filter((u) => u.start < last).length;
}

export function mediaStreamCaller(caller: FakeTwilioCaller): ConformanceCaller {
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
    underrunsWhileSpeaking: () => underrunsWhileSpeaking(caller),
    violations: () => caller.violations.toArray().map((v) => `${v.kind}: ${v.detail}`),
    now: () => caller.now(),
    heardSince: (t) => caller.heardSince(t),
    // The fake streams silence between utterances, as the carriers do: a VAD sees the turn end.
    sendSpeech: (samples) => caller.sendSpeech(samples),
    waitUntil: (check, timeoutMs, what) => caller.waitUntil(check, timeoutMs, what),
    sendWire: (message: WireMessage) => ('text' in message ? caller.sendRaw(message.text) : caller.sendBinary(message.binary)),
    stop: () => caller.stop(),
    terminate: () => caller.terminate(),
  };
}
