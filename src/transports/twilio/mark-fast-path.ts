/**
 * Twilio's echoes of our marks (about 5 a second per call: the adapter sends a mark every 200 ms
 * of audio and Twilio echoes each once played), read from the socket's bytes without making the
 * frame's string or calling JSON.parse.
 *
 * Twilio sends an echo in one compact layout, in the field order of its docs
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages#mark-message; golden fixtures
 * test/fixtures/twilio/mark*.json): event, sequenceNumber, streamSid, mark {name}. When a frame has
 * exactly that layout in plain ASCII (values that need no JSON unescaping), names the started
 * stream and carries a 1–15-digit sequence number and a name of 1–256 characters, the name is
 * returned: the full parser (codec.ts) would return the same mark message for it, which the adapter
 * would pass to the same handler. Anything else — another order, spaces, escapes, extra fields,
 * non-ASCII bytes, another stream, bad digits, an empty or long name — returns undefined and the
 * full parser decides, with its coded errors (test/transports/twilio/mark-fast-path.test.ts checks
 * both with fast-check).
 */
import { MAX_MARK_NAME_CHARS } from './codec.js';
import { allPlain, ascii, asciiText, digitsEnd, matchesAt, spells } from './frame-bytes.js';

// The fixed parts between the values, in order.
const HEAD = ascii('{"event":"mark","sequenceNumber":"');
const TO_SID = ascii('","streamSid":"');
const TO_NAME = ascii('","mark":{"name":"');
const TAIL = ascii('"}}');

/**
 * The echoed mark name when `bytes` (a whole WebSocket text frame) is a mark message of stream
 * `streamSid` in Twilio's exact layout, exactly as the full parser would read it; undefined for any
 * other frame (then parse it). `streamSid` is the sid of the stream's `start`, whose shape the full
 * parser checked then, so it is not checked again. `maxChars`: the full parser's bound on a message.
 */
export function readTwilioMarkEchoOf(bytes: Uint8Array, maxChars: number, streamSid: string): string | undefined {
  if (bytes.length > maxChars || !matchesAt(bytes, 0, HEAD)) return undefined;
  const sequenceEnd = digitsEnd(bytes, HEAD.length);
  if (sequenceEnd < 0 || !matchesAt(bytes, sequenceEnd, TO_SID)) return undefined;
  const sidStart = sequenceEnd + TO_SID.length;
  const sidEnd = sidStart + streamSid.length;
  // Plain, too: a sid holding a quote or a backslash would be escaped in the frame, not spelled.
  if (!spells(bytes, sidStart, sidEnd, streamSid) || !allPlain(bytes, sidStart, sidEnd) || !matchesAt(bytes, sidEnd, TO_NAME)) return undefined;
  // The name runs to the tail; any quote in it (another field, or the end of a longer value) fails the plain check.
  const nameStart = sidEnd + TO_NAME.length;
  const nameEnd = bytes.length - TAIL.length;
  const size = nameEnd - nameStart;
  if (size < 1 || size > MAX_MARK_NAME_CHARS || !matchesAt(bytes, nameEnd, TAIL) || !allPlain(bytes, nameStart, nameEnd)) return undefined;
  return asciiText(bytes, nameStart, nameEnd);
}
