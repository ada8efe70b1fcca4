/**
 * The one Twilio message that arrives 50 times a second per call, read without JSON.parse.
 *
 * Twilio sends every inbound `media` message in one compact layout (field order of its docs:
 * event, sequenceNumber, media {track, chunk, timestamp, payload}, streamSid). When a text has
 * exactly that layout, with values that need no JSON unescaping, the fields are taken from their
 * places and the payload decoded in place: the same message the full parser (codec.ts) returns,
 * without building the parsed object tree. Anything else — another field order, spaces, escapes,
 * extra fields, bad digits, bad base64, a payload too large or empty — returns undefined and the
 * full parser decides, so the fast path accepts a subset of what the full parser accepts, with the
 * same result (test/transports/twilio/media-fast-path.test.ts checks both with fast-check).
 */
import { base64DecodedLength, decodeCheckedBase64Into } from '../../audio/base64.js';
import type { TwilioMedia } from './messages.js';

/**
 * The layout, anchored. Captures: sequenceNumber, track, chunk, timestamp, payload, streamSid.
 * Digits as the full parser's DIGITS (1–15); the track in a class that needs no unescaping (≤ 32,
 * the full parser's bound); the sid free of quotes and backslashes (its shape is checked after).
 */
const MEDIA_LAYOUT =
  /^\{"event":"media","sequenceNumber":"([0-9]{1,15})","media":\{"track":"([A-Za-z0-9_]{1,32})","chunk":"([0-9]{1,15})","timestamp":"([0-9]{1,15})","payload":"([A-Za-z0-9+/]*={0,2})"\},"streamSid":"([^"\\\x00-\x1f]{1,64})"\}$/;

/**
 * The media message in `text` if it has Twilio's exact layout and every field is valid, its payload
 * decoded into `out` (a view of it); undefined otherwise (then parse in full). `maxChars` and
 * `sid` are the full parser's bounds; a sid equal to `knownSid` (checked against `sid` when the
 * stream started) is not tested again.
 */
export function parseTwilioMediaFast(text: string, out: Uint8Array, maxChars: number, sid: RegExp, knownSid?: string): TwilioMedia | undefined {
  if (text.length > maxChars || text.charCodeAt(10) !== 0x6d /* 'm' of "media" */) return undefined;
  const fields = MEDIA_LAYOUT.exec(text);
  if (fields === null) return undefined;
  const [, sequence, track, chunk, timestamp, payload, streamSid] = fields as unknown as [string, string, string, string, string, string, string];
  if (streamSid !== knownSid && !sid.test(streamSid)) return undefined;
  const size = base64DecodedLength(payload);
  if (size <= 0 || size > out.length) return undefined;
  // The layout's payload class already holds only the alphabet, with "=" only at the end: the
  // length (checked just above) is all that is left to check, so the alphabet is not scanned again.
  const written = decodeCheckedBase64Into(payload, out, size);
  if (written < 0) return undefined;
  return {
    event: 'media',
    sequenceNumber: Number(sequence),
    streamSid,
    track,
    chunk: Number(chunk),
    timestamp: Number(timestamp),
    payload: out.subarray(0, written),
  };
}
