/**
 * Pure codec for the Vonage Voice WebSocket: JSON text events and binary L16 frames ⇄ typed
 * messages, no I/O (house style 10). Parsing never throws: every input is a typed message or a
 * coded error, so the adapter reports it and keeps the call.
 */
import { vwError, type VoicewireError } from '../../errors.js';
import { BadField, isObject, parseJsonMessage, type Json, type JsonParseResult } from '../media-stream/json-fields.js';
import { DTMF_DIGIT } from '../twilio/messages.js';
import { VONAGE_EVENTS, type VonageEvent, type VonageRate } from './messages.js';

/** Largest text message accepted (events are small; `headers` are capped at 512 bytes by Vonage). */
export const MAX_TEXT_CHARS = 16 * 1024;
/** Largest inbound audio message: 1 s at 24 kHz. Vonage sends 20 ms frames. */
export const MAX_AUDIO_BYTES = 48_000;
/** Bound on the header fields kept from `websocket:connected`. */
export const MAX_HEADERS = 32;
/** Bound on an echoed notify payload (ours is one short name). */
export const MAX_NOTIFY_CHARS = 1024;

export type VonageParseResult = JsonParseResult<VonageEvent>;

export type VonageAudioResult = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly error: VoicewireError };

const KNOWN_EVENTS: ReadonlySet<string> = new Set(VONAGE_EVENTS);
const CONTENT_TYPE = /^audio\/l16\s*;\s*rate\s*=\s*(8000|16000|24000)\s*$/i;

/** The sample rate of an `audio/l16;rate=N` content type, or undefined for anything else. */
export function rateOfContentType(contentType: string): VonageRate | undefined {
  const match = CONTENT_TYPE.exec(contentType);
  return match === null ? undefined : (Number(match[1]) as VonageRate);
}

function readEvent(root: Json, event: string): VonageEvent {
  switch (event) {
    case 'websocket:connected': {
      const contentType = root['content-type'];
      if (typeof contentType !== 'string') throw new BadField('content-type');
      const rate = rateOfContentType(contentType);
      if (rate === undefined) throw new BadField('content-type');
      const headers: Array<[string, string]> = [];
      for (const [name, value] of Object.entries(root)) {
        if (name === 'event' || name === 'content-type' || typeof value !== 'string') continue;
        if (headers.length >= MAX_HEADERS) break;
        headers.push([name.slice(0, 64), value.slice(0, 256)]);
      }
      // fromEntries defines own properties, so a "__proto__" header stays a plain key.
      return { event, contentType, rate, headers: Object.fromEntries(headers) };
    }
    case 'websocket:notify': {
      const payload = root['payload'];
      if (!isObject(payload) || JSON.stringify(payload).length > MAX_NOTIFY_CHARS) throw new BadField('payload');
      return { event, payload };
    }
    case 'websocket:cleared':
      return { event };
    default: {
      // Digit and duration at the top level, as in the examples; a nested `dtmf` object (seen in
      // some integrations) is read the same way.
      const nested = root['dtmf'];
      const source = root['digit'] === undefined && isObject(nested) ? nested : root;
      const digit = source['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw new BadField('digit');
      const duration = source['duration'];
      if (duration !== undefined && (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0)) throw new BadField('duration');
      return { event: 'websocket:dtmf', digit, durationMs: duration };
    }
  }
}

/** Parses one text message from Vonage. */
export function parseVonageText(text: string): VonageParseResult {
  return parseJsonMessage(text, MAX_TEXT_CHARS, KNOWN_EVENTS, readEvent);
}

/** Checks one binary message of caller audio: whole 16-bit samples, not empty, at most `maxBytes`. */
export function parseVonageAudio(bytes: Uint8Array, maxBytes: number = MAX_AUDIO_BYTES): VonageAudioResult {
  if (bytes.length === 0 || bytes.length % 2 !== 0 || bytes.length > maxBytes) {
    return { ok: false, error: vwError('VW_ERR_BAD_PAYLOAD_SIZE', bytes.length) };
  }
  return { ok: true, bytes };
}

// ---------------------------------------------------------------------------------------------
// Server → Vonage. Audio goes as binary 20 ms frames as it is (adapter.ts cuts them); these are the actions.

/** Asks for a `websocket:notify` echoing `{ name }` once the audio sent before it has played. */
export function serializeNotify(name: string): string {
  return `{"action":"notify","payload":{"name":${JSON.stringify(name)}}}`;
}

/** Empties Vonage's playback buffer; answered with `websocket:cleared`. */
export function serializeClear(): string {
  return '{"action":"clear"}';
}
