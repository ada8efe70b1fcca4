/**
 * The one Twilio message that arrives 50 times a second per call, read from the socket's bytes
 * without making a string or calling JSON.parse.
 *
 * Twilio sends every inbound `media` message in one compact layout (field order of its docs:
 * event, sequenceNumber, media {track, chunk, timestamp, payload}, streamSid). When a frame has
 * exactly that layout in plain ASCII, with values that need no JSON unescaping, the fixed parts are
 * compared as bytes, the counters read digit by digit and the payload decoded and validated
 * straight from the bytes into the output buffer: the same message the full parser (codec.ts)
 * returns. Anything else — another field order, spaces, escapes, extra fields, non-ASCII bytes, bad
 * digits, bad base64, a payload too large or empty — returns undefined and the full parser decides,
 * so the fast path accepts a subset of what the full parser accepts, with the same result
 * (test/transports/twilio/media-fast-path.test.ts checks both with fast-check). The adapter's own
 * read ({@link readTwilioMediaOf}) goes one step further for a started stream: only the payload of
 * its stream's caller track, with no message object at all.
 */
import { decodeBase64BytesInto } from '../../audio/base64.js';
import { QUOTE, allPlain, ascii, asciiText, digitsEnd, digitsValue, matchesAt, spells } from './frame-bytes.js';
import type { TwilioMedia } from './messages.js';

// The fixed parts between the values, in order.
const HEAD = ascii('{"event":"media","sequenceNumber":"');
const TO_TRACK = ascii('","media":{"track":"');
const TO_CHUNK = ascii('","chunk":"');
const TO_TIMESTAMP = ascii('","timestamp":"');
const TO_PAYLOAD = ascii('","payload":"');
const TO_SID = ascii('"},"streamSid":"');
const TAIL = ascii('"}');

/** Full parser's bounds: a track of ≤ 32 characters, a sid of ≤ 64 (counters: frame-bytes.ts). */
const MAX_TRACK = 32;
const MAX_SID = 64;

/** The track every caller frame names, returned as this constant (no string made per frame). */
const INBOUND = 'inbound';

/** 1 for the bytes a track may hold here (`[A-Za-z0-9_]`: a subset of the full parser's, needing no unescaping). */
const TRACK_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_') TRACK_BYTE[c.charCodeAt(0)] = 1;

/** The sid in `bytes[start, end)`: `knownSid` itself when equal, else a printable-ASCII text matching `sid`; undefined otherwise. */
function sidAt(bytes: Uint8Array, start: number, end: number, sid: RegExp, knownSid: string | undefined): string | undefined {
  if (knownSid !== undefined && spells(bytes, start, end, knownSid)) return knownSid;
  if (end === start || end - start > MAX_SID) return undefined;
  // No control characters, quotes or backslashes (they would need unescaping), nothing but ASCII.
  if (!allPlain(bytes, start, end)) return undefined;
  const text = asciiText(bytes, start, end);
  return sid.test(text) ? text : undefined;
}

/**
 * Where the values of the last frame {@link scanMedia} read lie in it (start, end of each):
 * sequenceNumber, track, chunk, timestamp, streamSid. Scratch: read right after the scan.
 */
const BOUNDS = new Int32Array(10);
const SEQUENCE = 0;
const TRACK = 2;
const CHUNK = 4;
const TIMESTAMP = 6;
const SID = 8;

/**
 * Checks that `bytes` has Twilio's exact media layout with valid counters, track and payload,
 * decodes the payload into `out` and notes where the values lie (BOUNDS); returns the payload's
 * size, or -1 (the sid's shape is left to the caller).
 */
function scanMedia(bytes: Uint8Array, out: Uint8Array, maxChars: number): number {
  if (bytes.length > maxChars || !matchesAt(bytes, 0, HEAD)) return -1;
  const sequenceStart = HEAD.length;
  const sequenceEnd = digitsEnd(bytes, sequenceStart);
  if (sequenceEnd < 0 || !matchesAt(bytes, sequenceEnd, TO_TRACK)) return -1;
  const trackStart = sequenceEnd + TO_TRACK.length;
  let trackEnd = trackStart;
  while (trackEnd < bytes.length && TRACK_BYTE[bytes[trackEnd]!] === 1) trackEnd++;
  if (trackEnd === trackStart || trackEnd - trackStart > MAX_TRACK || !matchesAt(bytes, trackEnd, TO_CHUNK)) return -1;
  const chunkStart = trackEnd + TO_CHUNK.length;
  const chunkEnd = digitsEnd(bytes, chunkStart);
  if (chunkEnd < 0 || !matchesAt(bytes, chunkEnd, TO_TIMESTAMP)) return -1;
  const timestampStart = chunkEnd + TO_TIMESTAMP.length;
  const timestampEnd = digitsEnd(bytes, timestampStart);
  if (timestampEnd < 0 || !matchesAt(bytes, timestampEnd, TO_PAYLOAD)) return -1;
  const payloadStart = timestampEnd + TO_PAYLOAD.length;
  // The sid runs from the last quote before the tail (a valid sid holds none) to the tail; found
  // from the end (≤ 65 bytes), not by scanning the payload for its closing quote (216 bytes).
  const sidEnd = bytes.length - TAIL.length;
  if (sidEnd <= payloadStart || !matchesAt(bytes, sidEnd, TAIL)) return -1;
  const sidLimit = Math.max(payloadStart, sidEnd - MAX_SID - 1);
  let sidQuote = sidEnd - 1;
  while (sidQuote >= sidLimit && bytes[sidQuote] !== QUOTE) sidQuote--;
  const sidStart = sidQuote + 1;
  const payloadEnd = sidStart - TO_SID.length;
  // The payload, between, must then be base64 alone: any quote in it fails the decode.
  if (sidQuote < sidLimit || payloadEnd < payloadStart || !matchesAt(bytes, payloadEnd, TO_SID)) return -1;
  const written = decodeBase64BytesInto(bytes, payloadStart, payloadEnd, out);
  if (written <= 0) return -1;
  BOUNDS[SEQUENCE] = sequenceStart;
  BOUNDS[SEQUENCE + 1] = sequenceEnd;
  BOUNDS[TRACK] = trackStart;
  BOUNDS[TRACK + 1] = trackEnd;
  BOUNDS[CHUNK] = chunkStart;
  BOUNDS[CHUNK + 1] = chunkEnd;
  BOUNDS[TIMESTAMP] = timestampStart;
  BOUNDS[TIMESTAMP + 1] = timestampEnd;
  BOUNDS[SID] = sidStart;
  BOUNDS[SID + 1] = sidEnd;
  return written;
}

/**
 * The media message in `bytes` (a whole WebSocket text frame) if it has Twilio's exact layout and
 * every field is valid, its payload decoded into `out` (a view of it); undefined otherwise (then
 * parse in full). `maxChars` and `sid` are the full parser's bounds; a sid equal to `knownSid`
 * (checked against `sid` when the stream started) is not tested again.
 */
export function parseTwilioMediaBytes(bytes: Uint8Array, out: Uint8Array, maxChars: number, sid: RegExp, knownSid?: string): TwilioMedia | undefined {
  const written = scanMedia(bytes, out, maxChars);
  if (written < 0) return undefined;
  const streamSid = sidAt(bytes, BOUNDS[SID]!, BOUNDS[SID + 1]!, sid, knownSid);
  if (streamSid === undefined) return undefined;
  const trackStart = BOUNDS[TRACK]!;
  const trackEnd = BOUNDS[TRACK + 1]!;
  return {
    event: 'media',
    sequenceNumber: digitsValue(bytes, BOUNDS[SEQUENCE]!, BOUNDS[SEQUENCE + 1]!),
    streamSid,
    track: spells(bytes, trackStart, trackEnd, INBOUND) ? INBOUND : asciiText(bytes, trackStart, trackEnd),
    chunk: digitsValue(bytes, BOUNDS[CHUNK]!, BOUNDS[CHUNK + 1]!),
    timestamp: digitsValue(bytes, BOUNDS[TIMESTAMP]!, BOUNDS[TIMESTAMP + 1]!),
    payload: out.subarray(0, written),
  };
}

/**
 * The size of the payload decoded into `out` when `bytes` is a media frame in Twilio's layout of
 * stream `streamSid` on `track`, exactly as {@link parseTwilioMediaBytes} would read it with
 * `knownSid` = `streamSid` (which must match the sid shape: it came from `start`); -1 for any other
 * frame (then parse it). For the adapter, which needs only the audio of its own stream and track:
 * no message object, no counters read (they were validated).
 */
export function readTwilioMediaOf(bytes: Uint8Array, out: Uint8Array, maxChars: number, streamSid: string, track: string): number {
  const written = scanMedia(bytes, out, maxChars);
  if (written < 0 || !spells(bytes, BOUNDS[SID]!, BOUNDS[SID + 1]!, streamSid) || !spells(bytes, BOUNDS[TRACK]!, BOUNDS[TRACK + 1]!, track)) return -1;
  return written;
}
