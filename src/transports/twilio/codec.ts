/**
 * Pure codec for Twilio Media Streams: JSON text ⇄ typed messages, no I/O (house style 10).
 *
 * Parsing never throws: every input is either a typed message or a coded error naming what was
 * wrong (`VW_ERR_BAD_FIELD` carries the field path, e.g. `media.chunk`), so the adapter can report
 * it and keep the connection. Unknown extra fields are ignored: Twilio adds fields over time.
 * Media payloads decode into a caller-owned buffer, so a 20 ms frame allocates nothing but the
 * parsed JSON itself; the buffer's length is the largest payload accepted.
 */
import { encodeBase64 } from '../../audio/base64.js';
import { vwError } from '../../errors.js';
import { streamSerializers } from '../media-stream/stream-serializers.js';
import { BadField, base64PayloadAt, digitsAt, idAt, objectAt, parseJsonMessage, stringAt, stringMapAt, tracksAt, type Json, type JsonParseResult } from '../media-stream/json-fields.js';
import { parseTwilioMediaBytes } from './media-fast-path.js';
import {
  DTMF_DIGIT,
  TWILIO_CHANNELS,
  TWILIO_INBOUND_EVENTS,
  TWILIO_MEDIA_ENCODING,
  TWILIO_SAMPLE_RATE,
  type TwilioInbound,
  type TwilioMedia,
  type TwilioStart,
} from './messages.js';

/** Largest text message accepted (a 1 s media payload is ~10.7 k characters; starts are small). */
export const MAX_MESSAGE_CHARS = 64 * 1024;
/** Default bound on one media payload: 1 s of μ-law audio. Inbound frames are 160 bytes (20 ms). */
export const MAX_MEDIA_PAYLOAD_BYTES = 8000;
/** Bounds on `start.customParameters` (Twilio caps name+value near 500 characters; unconfirmed). */
export const MAX_CUSTOM_PARAMETERS = 64;
export const MAX_CUSTOM_PARAMETER_CHARS = 1024;
/** Bound on an echoed mark name (ours are < 40 characters). */
export const MAX_MARK_NAME_CHARS = 256;

/** On error, `event` when it could be read and `field`, the path to blame (`start.mediaFormat.sampleRate`), for logs. */
export type TwilioParseResult = JsonParseResult<TwilioInbound>;

const KNOWN_EVENTS: ReadonlySet<string> = new Set(TWILIO_INBOUND_EVENTS);
/** Twilio sids (`MZ…`, `CA…`, `AC…`): letters and digits. Other dialects pass their own shape. */
export const TWILIO_SID = /^[A-Za-z0-9]{1,64}$/;

/** Options for dialects that reuse this codec (SignalWire speaks the same messages). */
export interface TwilioParseOptions {
  /** Shape of every sid (default {@link TWILIO_SID}; SignalWire sends UUIDs). */
  readonly sidPattern?: RegExp;
}

function numberAt(parent: Json, key: string, path: string, expected: number): number {
  const value = parent[key];
  if (value !== expected) throw new BadField(path);
  return value;
}

function parseCustomParameters(start: Json): Readonly<Record<string, string>> {
  // Absent on some older streams; an empty set is what "no <Parameter>" means anyway.
  return stringMapAt(start, 'customParameters', 'start.customParameters', MAX_CUSTOM_PARAMETERS, MAX_CUSTOM_PARAMETER_CHARS);
}

function parseStart(root: Json, sequenceNumber: number, streamSid: string, sid: RegExp): TwilioStart {
  const sidAt = (parent: Json, key: string, path: string): string => idAt(parent, key, path, sid);
  const start = objectAt(root, 'start', 'start');
  if (sidAt(start, 'streamSid', 'start.streamSid') !== streamSid) throw new BadField('start.streamSid');
  const format = objectAt(start, 'mediaFormat', 'start.mediaFormat');
  if (format['encoding'] !== TWILIO_MEDIA_ENCODING) throw new BadField('start.mediaFormat.encoding');
  return {
    event: 'start',
    sequenceNumber,
    streamSid,
    accountSid: sidAt(start, 'accountSid', 'start.accountSid'),
    callSid: sidAt(start, 'callSid', 'start.callSid'),
    tracks: tracksAt(start, 'tracks', 'start.tracks'),
    customParameters: parseCustomParameters(start),
    mediaFormat: {
      encoding: TWILIO_MEDIA_ENCODING,
      sampleRate: numberAt(format, 'sampleRate', 'start.mediaFormat.sampleRate', TWILIO_SAMPLE_RATE),
      channels: numberAt(format, 'channels', 'start.mediaFormat.channels', TWILIO_CHANNELS),
    },
  };
}

function parseMedia(root: Json, sequenceNumber: number, streamSid: string, out: Uint8Array): TwilioMedia {
  const media = objectAt(root, 'media', 'media');
  const track = stringAt(media, 'track', 'media.track', 32);
  const chunk = digitsAt(media, 'chunk', 'media.chunk');
  const timestamp = digitsAt(media, 'timestamp', 'media.timestamp');
  return { event: 'media', sequenceNumber, streamSid, track, chunk, timestamp, payload: base64PayloadAt(media, 'payload', 'media.payload', out) };
}

function parseEvent(root: Json, event: string, out: Uint8Array, sid: RegExp): TwilioInbound {
  const sidAt = (parent: Json, key: string, path: string): string => idAt(parent, key, path, sid);
  if (event === 'connected') {
    return { event, protocol: stringAt(root, 'protocol', 'protocol', 64), version: stringAt(root, 'version', 'version', 64) };
  }
  const sequenceNumber = digitsAt(root, 'sequenceNumber', 'sequenceNumber');
  const streamSid = sidAt(root, 'streamSid', 'streamSid');
  switch (event) {
    case 'start':
      return parseStart(root, sequenceNumber, streamSid, sid);
    case 'media':
      return parseMedia(root, sequenceNumber, streamSid, out);
    case 'dtmf': {
      const dtmf = objectAt(root, 'dtmf', 'dtmf');
      const track = stringAt(dtmf, 'track', 'dtmf.track', 32);
      const digit = dtmf['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw new BadField('dtmf.digit');
      return { event, sequenceNumber, streamSid, track, digit };
    }
    case 'mark': {
      const mark = objectAt(root, 'mark', 'mark');
      return { event, sequenceNumber, streamSid, name: stringAt(mark, 'name', 'mark.name', MAX_MARK_NAME_CHARS) };
    }
    case 'stop': {
      const stop = objectAt(root, 'stop', 'stop');
      return {
        event,
        sequenceNumber,
        streamSid,
        accountSid: sidAt(stop, 'accountSid', 'stop.accountSid'),
        callSid: sidAt(stop, 'callSid', 'stop.callSid'),
      };
    }
    default:
      // Unreachable: parseTwilioMessage checked the name against KNOWN_EVENTS.
      throw new BadField('event', vwError('VW_ERR_UNKNOWN_EVENT', JSON.stringify(event.slice(0, 64))));
  }
}

/**
 * Parses one text frame from Twilio, given as text (fakes, tests) or as the frame's UTF-8 bytes
 * (the adapter: media frames in Twilio's own layout are then read from the bytes, without a string
 * or JSON.parse, in media-fast-path.ts; everything else is decoded and parsed in full). A media
 * payload is decoded into `mediaOut` (`message.payload` is a view of it, valid until the next
 * parse); `mediaOut.length` is the largest payload accepted (default {@link MAX_MEDIA_PAYLOAD_BYTES});
 * an empty payload is rejected. `knownStreamSid` (the sid of this stream's `start`, already checked)
 * only saves re-checking an equal sid's shape; the result is the same without it.
 */
export function parseTwilioMessage(frame: string | Uint8Array, mediaOut: Uint8Array, options: TwilioParseOptions = {}, knownStreamSid?: string): TwilioParseResult {
  if (typeof frame === 'string') return parseTwilioMessageInFull(frame, mediaOut, options);
  const media = parseTwilioMediaBytes(frame, mediaOut, MAX_MESSAGE_CHARS, options.sidPattern ?? TWILIO_SID, knownStreamSid);
  if (media !== undefined) return { ok: true, message: media };
  return parseTwilioMessageInFull(utf8Text(frame), mediaOut, options);
}

/** `bytes` decoded as UTF-8 (invalid sequences become U+FFFD, as ws's text decoding would). */
function utf8Text(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).toString('utf8');
}

/** {@link parseTwilioMessage} without the media fast path (@internal: the fast path's tests compare with it). */
export function parseTwilioMessageInFull(text: string, mediaOut: Uint8Array, options: TwilioParseOptions = {}): TwilioParseResult {
  const sid = options.sidPattern ?? TWILIO_SID;
  return parseJsonMessage(text, MAX_MESSAGE_CHARS, KNOWN_EVENTS, (root, event) => parseEvent(root, event, mediaOut, sid));
}

// Server → Twilio.
const TWILIO_OUT = streamSerializers('streamSid');
/** A `media` message carrying `bytes[start, end)` as base64 μ-law. */
export const serializeMedia = TWILIO_OUT.media;
export const serializeMark = TWILIO_OUT.mark;
export const serializeClear = TWILIO_OUT.clear;

/**
 * Twilio → server messages back to Twilio's JSON shape (for tests, fixtures and fakes; the
 * gateway never sends these). Counters become digit strings again.
 */
export function serializeTwilioInbound(message: TwilioInbound): string {
  switch (message.event) {
    case 'connected':
      return JSON.stringify({ event: 'connected', protocol: message.protocol, version: message.version });
    case 'start':
      return JSON.stringify({
        event: 'start',
        sequenceNumber: String(message.sequenceNumber),
        start: {
          accountSid: message.accountSid,
          streamSid: message.streamSid,
          callSid: message.callSid,
          tracks: message.tracks,
          mediaFormat: message.mediaFormat,
          customParameters: message.customParameters,
        },
        streamSid: message.streamSid,
      });
    case 'media':
      return JSON.stringify({
        event: 'media',
        sequenceNumber: String(message.sequenceNumber),
        media: {
          track: message.track,
          chunk: String(message.chunk),
          timestamp: String(message.timestamp),
          payload: encodeBase64(message.payload),
        },
        streamSid: message.streamSid,
      });
    case 'dtmf':
      return JSON.stringify({
        event: 'dtmf',
        streamSid: message.streamSid,
        sequenceNumber: String(message.sequenceNumber),
        dtmf: { track: message.track, digit: message.digit },
      });
    case 'mark':
      return JSON.stringify({
        event: 'mark',
        sequenceNumber: String(message.sequenceNumber),
        streamSid: message.streamSid,
        mark: { name: message.name },
      });
    case 'stop':
      return JSON.stringify({
        event: 'stop',
        sequenceNumber: String(message.sequenceNumber),
        streamSid: message.streamSid,
        stop: { accountSid: message.accountSid, callSid: message.callSid },
      });
  }
}
