/**
 * Pure codec for Twilio Media Streams: JSON text ⇄ typed messages, no I/O (house style 10).
 *
 * Parsing never throws: every input is either a typed message or a coded error naming what was
 * wrong (`VW_ERR_BAD_FIELD` carries the field path, e.g. `media.chunk`), so the adapter can report
 * it and keep the connection. Unknown extra fields are ignored: Twilio adds fields over time.
 * Media payloads decode into a caller-owned buffer, so a 20 ms frame allocates nothing but the
 * parsed JSON itself; the buffer's length is the largest payload accepted.
 */
import { base64DecodedLength, decodeBase64Into, encodeBase64 } from '../../audio/base64.js';
import { vwError, type VoicewireError } from '../../errors.js';
import { BadField, digitsAt, idAt, isObject, objectAt, stringAt, stringMapAt, type Json } from '../media-stream/json-fields.js';
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

export type TwilioParseResult =
  | { readonly ok: true; readonly message: TwilioInbound }
  | {
      readonly ok: false;
      readonly error: VoicewireError;
      /** The `event` field when it could be read (for logs). */
      readonly event?: string;
      /** Path of the offending field (`media.payload`, `start.mediaFormat.sampleRate`, …) when one is to blame. */
      readonly field?: string;
    };

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

function parseTracks(start: Json): readonly string[] {
  const raw = start['tracks'];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 4) throw new BadField('start.tracks');
  for (const track of raw) {
    if (typeof track !== 'string' || track.length === 0 || track.length > 32) throw new BadField('start.tracks');
  }
  return raw as string[];
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
    tracks: parseTracks(start),
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
  const text = media['payload'];
  if (typeof text !== 'string') throw new BadField('media.payload');
  // Length first: it is free, and a size problem deserves its own code rather than "bad base64".
  const size = base64DecodedLength(text);
  if (size < 0) throw new BadField('media.payload', vwError('VW_ERR_BAD_BASE64'));
  if (size === 0 || size > out.length) throw new BadField('media.payload', vwError('VW_ERR_BAD_PAYLOAD_SIZE', size));
  const written = decodeBase64Into(text, out);
  if (written < 0) throw new BadField('media.payload', vwError('VW_ERR_BAD_BASE64'));
  return { event: 'media', sequenceNumber, streamSid, track, chunk, timestamp, payload: out.subarray(0, written) };
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
 * Parses one text frame from Twilio. A media payload is decoded into `mediaOut`
 * (`message.payload` is a view of it, valid until the next parse); `mediaOut.length` is the
 * largest payload accepted (default {@link MAX_MEDIA_PAYLOAD_BYTES}); an empty payload is rejected.
 */
export function parseTwilioMessage(text: string, mediaOut: Uint8Array, options: TwilioParseOptions = {}): TwilioParseResult {
  if (text.length > MAX_MESSAGE_CHARS) {
    return { ok: false, error: vwError('VW_ERR_MESSAGE_TOO_LARGE', text.length, MAX_MESSAGE_CHARS) };
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: vwError('VW_ERR_BAD_JSON', detail.slice(0, 120)) };
  }
  if (!isObject(root)) return { ok: false, error: vwError('VW_ERR_BAD_JSON', 'not a JSON object') };
  const event = root['event'];
  if (typeof event !== 'string') return { ok: false, error: vwError('VW_ERR_BAD_FIELD', 'event'), field: 'event' };
  if (!KNOWN_EVENTS.has(event)) {
    return { ok: false, error: vwError('VW_ERR_UNKNOWN_EVENT', JSON.stringify(event.slice(0, 64))), event: event.slice(0, 64) };
  }
  try {
    return { ok: true, message: parseEvent(root, event, mediaOut, options.sidPattern ?? TWILIO_SID) };
  } catch (err) {
    if (!(err instanceof BadField)) throw err;
    return { ok: false, error: err.error ?? vwError('VW_ERR_BAD_FIELD', err.path), event: event.slice(0, 64), field: err.path };
  }
}

// ---------------------------------------------------------------------------------------------
// Server → Twilio. Built as strings: these run per media message, and the only dynamic values
// are the streamSid, the mark name (JSON-escaped) and base64 (which needs no escaping).

/** A `media` message carrying `bytes[start, end)` as base64 μ-law. */
export function serializeMedia(streamSid: string, bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${encodeBase64(bytes, start, end)}"}}`;
}

export function serializeMark(streamSid: string, name: string): string {
  return `{"event":"mark","streamSid":${JSON.stringify(streamSid)},"mark":{"name":${JSON.stringify(name)}}}`;
}

export function serializeClear(streamSid: string): string {
  return `{"event":"clear","streamSid":${JSON.stringify(streamSid)}}`;
}

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
