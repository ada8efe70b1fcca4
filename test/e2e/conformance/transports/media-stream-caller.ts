/**
 * The conformance view of a fake carrier caller. Every fake carrier caller is a PacedCaller
 * (test/fakes/paced-caller.ts): the Twilio-style fake (Twilio, and with another wire dialect
 * SignalWire, Telnyx, Exotel) and the Plivo and Vonage fakes.
 */
import type { PacedCaller } from '../../../fakes/paced-caller.js';
import type { ConformanceCaller, WireMessage } from '../transport-under-test.js';

/**
 * Each underrun, measured: when it began (ms after the first audio), how long it lasted, how long
 * before it the last message had arrived and what the caller held then, and any stall of this
 * process (the frame clock firing late) in the 1 s before it: a stall the size of what was held is
 * the machine starving the process, silence from the gateway without one is a flow fault.
 */
function describeUnderruns(caller: PacedCaller): Array<Record<string, number | string>> {
  const received = caller.received.toArray();
  const firstAudio = received.find((e) => e.bytes !== undefined)?.at ?? 0;
  const stalls = caller.stalls.toArray();
  return caller.underruns.map((u) => {
    const last = received.filter((e) => e.at <= u.start).at(-1);
    const near = stalls.filter((s) => s.at <= u.start && s.at + s.lateMs >= u.start - 1000);
    return {
      atMs: Math.round(u.start - firstAudio),
      lastedMs: Math.round((u.end ?? caller.now()) - u.start),
      lastMessageAgoMs: Math.round(u.start - (last?.at ?? 0)),
      bufferedThenMs: Math.round(last?.bufferedMs ?? 0),
      stalls: near.map((s) => `${Math.round(s.at - firstAudio)}+${Math.round(s.lateMs)}`).join(' '),
    };
  });
}

/**
 * The least audio the caller still held when more arrived (the margin against an underrun), and
 * when (ms after the first audio). Messages of one send (< 2 ms apart) count as one arrival.
 */
function leastMargin(caller: PacedCaller): { heldMs: number; atMs: number } {
  const audio = caller.received.toArray().filter((e) => e.bytes !== undefined);
  let least = { heldMs: Infinity, atMs: 0 };
  for (let i = 1; i < audio.length; i++) {
    if (audio[i]!.at - audio[i - 1]!.at < 2) continue;
    const held = Math.max(0, audio[i - 1]!.bufferedMs - (audio[i]!.at - audio[i - 1]!.at));
    if (held < least.heldMs) least = { heldMs: Math.round(held), atMs: Math.round(audio[i]!.at - audio[0]!.at) };
  }
  return least;
}

/** `speak8k` speaks 8 kHz samples in the caller's format. */
export function pacedCaller(caller: PacedCaller, speak8k: (samples: Int16Array) => Promise<void>): ConformanceCaller {
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
    underrunReport: () => {
      const margin = leastMargin(caller);
      return `least held when audio arrived ${margin.heldMs} ms (at ${margin.atMs} ms); process stalled at most ${caller.clockStall.maxLateMs.toFixed(0)} ms; underruns ${JSON.stringify(describeUnderruns(caller))}`;
    },
    violations: () => caller.violations.toArray().map((v) => `${v.kind}: ${v.detail}`),
    now: () => caller.now(),
    heardSince: (t) => caller.heardSince(t),
    // The fakes stream silence between utterances, as the carriers do: a VAD sees the turn end.
    sendSpeech: speak8k,
    waitUntil: (check, timeoutMs, what) => caller.waitUntil(check, timeoutMs, what),
    sendWire: (message: WireMessage) => caller.sendRaw('text' in message ? message.text : message.binary),
    stop: () => caller.stop(),
    terminate: () => caller.terminate(),
  };
}

/** The Twilio-style fake (8 kHz, so speech goes as it is). */
export function mediaStreamCaller(caller: PacedCaller): ConformanceCaller {
  return pacedCaller(caller, (samples) => caller.sendSpeech(samples));
}
