/**
 * Pure codec for Plivo Audio Streams: JSON text ⇄ typed messages, no I/O (house style 10).
 *
 * Parsing never throws: every input is a typed message or a coded error naming what was wrong
 * (`VW_ERR_BAD_FIELD` carries the field path), so the adapter reports it and keeps the call.
 * Unknown extra fields are ignored (Plivo adds fields over time, e.g. `extra_headers` on media).
 * Media payloads decode into a caller-owned buffer whose length is the largest payload accepted.
 */
import { encodeBase64 } from '../../audio/base64.js';
import { vwError } from '../../errors.js';
import { BadField, DIGITS, base64PayloadAt, idAt as idAtMatching, objectAt, parseJsonMessage, stringAt, tracksAt, type Json, type JsonParseResult } from '../media-stream/json-fields.js';
import { DTMF_DIGIT } from '../twilio/messages.js';
import {
  PLIVO_INBOUND_EVENTS,
  PLIVO_L16,
  PLIVO_MULAW,
  type PlivoInbound,
  type PlivoMediaFormat,
  type PlivoStart,
} from './messages.js';

/** Largest text message accepted (1 s of 16 kHz L16 is ~42.7 k base64 characters). */
export const MAX_MESSAGE_CHARS = 64 * 1024;
/** Default bound on one media payload: 1 s of the widest format (L16 16 kHz). Frames are 20 ms. */
export const MAX_MEDIA_PAYLOAD_BYTES = 32_000;
/** Bound on `extra_headers` (Plivo caps `extraHeaders` at 512 bytes). */
export const MAX_EXTRA_HEADERS_CHARS = 1024;
/** Bound on an acknowledged checkpoint name (ours are < 40 characters). */
export const MAX_CHECKPOINT_NAME_CHARS = 256;

export type PlivoParseResult = JsonParseResult<PlivoInbound>;

export interface PlivoParseOptions {
  /** Where media payloads are decoded; its length is the largest payload accepted. */
  readonly mediaOut: Uint8Array;
  /** Bytes per sample of the stream's format (2 for L16: an odd payload is not whole samples). Default 1. */
  readonly sampleBytes?: 1 | 2;
}

const KNOWN_EVENTS: ReadonlySet<string> = new Set(PLIVO_INBOUND_EVENTS);
const ID = /^[A-Za-z0-9-]{1,64}$/;

function idAt(parent: Json, key: string, path: string): string {
  return idAtMatching(parent, key, path, ID);
}

/** A non-negative whole number, as a JSON number or a string of digits (Plivo's pages show both). */
function counterAt(parent: Json, key: string, path: string): number {
  const value = parent[key];
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && DIGITS.test(value)) return Number(value);
  throw new BadField(path);
}

/** `sequenceNumber`: present on most messages, absent from some documented examples (`playedStream`). */
function sequenceAt(root: Json): number | undefined {
  return root['sequenceNumber'] === undefined ? undefined : counterAt(root, 'sequenceNumber', 'sequenceNumber');
}

/** `audio/x-mulaw` at 8000, or `audio/x-l16` at 8000/16000; a `;rate=…` suffix on the encoding is tolerated. */
function parseMediaFormat(start: Json): PlivoMediaFormat {
  const format = objectAt(start, 'mediaFormat', 'start.mediaFormat');
  const raw = format['encoding'];
  const encoding = typeof raw === 'string' ? raw.split(';')[0]?.trim().toLowerCase() : undefined;
  if (encoding !== PLIVO_MULAW && encoding !== PLIVO_L16) throw new BadField('start.mediaFormat.encoding');
  const rate = format['sampleRate'];
  const allowed = encoding === PLIVO_MULAW ? rate === 8000 : rate === 8000 || rate === 16000;
  if (!allowed) throw new BadField('start.mediaFormat.sampleRate');
  return { encoding, sampleRate: rate as 8000 | 16000 };
}

function parseStart(root: Json): PlivoStart {
  const start = objectAt(root, 'start', 'start');
  const extra = root['extra_headers'];
  if (extra !== undefined && (typeof extra !== 'string' || extra.length > MAX_EXTRA_HEADERS_CHARS)) throw new BadField('extra_headers');
  return {
    event: 'start',
    sequenceNumber: sequenceAt(root),
    streamId: idAt(start, 'streamId', 'start.streamId'),
    callId: idAt(start, 'callId', 'start.callId'),
    accountId: idAt(start, 'accountId', 'start.accountId'),
    tracks: tracksAt(start, 'tracks', 'start.tracks'),
    mediaFormat: parseMediaFormat(start),
    extraHeaders: extra ?? '',
  };
}

function parseEvent(root: Json, event: string, options: PlivoParseOptions): PlivoInbound {
  if (event === 'start') return parseStart(root);
  const streamId = idAt(root, 'streamId', 'streamId');
  if (event === 'stop') {
    const reason = root['reason'];
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 256)) throw new BadField('reason');
    return { event, streamId, reason };
  }
  const sequenceNumber = sequenceAt(root);
  switch (event) {
    case 'media': {
      const media = objectAt(root, 'media', 'media');
      const track = stringAt(media, 'track', 'media.track', 32);
      const chunk = counterAt(media, 'chunk', 'media.chunk');
      const timestamp = counterAt(media, 'timestamp', 'media.timestamp');
      return { event, sequenceNumber, streamId, track, chunk, timestamp, payload: base64PayloadAt(media, 'payload', 'media.payload', options.mediaOut, options.sampleBytes) };
    }
    case 'dtmf': {
      const dtmf = objectAt(root, 'dtmf', 'dtmf');
      const digit = dtmf['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw new BadField('dtmf.digit');
      return { event, sequenceNumber, streamId, digit };
    }
    case 'playedStream':
    case 'played':
      return { event: 'playedStream', sequenceNumber, streamId, name: stringAt(root, 'name', 'name', MAX_CHECKPOINT_NAME_CHARS) };
    case 'clearedAudio':
      return { event, sequenceNumber, streamId };
    default:
      // Unreachable: parsePlivoMessage checked the name against KNOWN_EVENTS.
      throw new BadField('event', vwError('VW_ERR_UNKNOWN_EVENT', JSON.stringify(event.slice(0, 64))));
  }
}

/**
 * Parses one text frame from Plivo. A media payload is decoded into `options.mediaOut`
 * (`message.payload` is a view of it, valid until the next parse).
 */
export function parsePlivoMessage(text: string, options: PlivoParseOptions): PlivoParseResult {
  return parseJsonMessage(text, MAX_MESSAGE_CHARS, KNOWN_EVENTS, (root, event) => parseEvent(root, event, options));
}

// ---------------------------------------------------------------------------------------------
// Server → Plivo, built as strings (they run per audio piece). `playAudio` carries no streamId.

/** A `playAudio` message carrying `bytes[start, end)` in `format`. */
export function serializePlayAudio(format: PlivoMediaFormat, bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  return `{"event":"playAudio","media":{"contentType":"${format.encoding}","sampleRate":${format.sampleRate},"payload":"${encodeBase64(bytes, start, end)}"}}`;
}

export function serializeCheckpoint(streamId: string, name: string): string {
  return `{"event":"checkpoint","streamId":${JSON.stringify(streamId)},"name":${JSON.stringify(name)}}`;
}

export function serializeClearAudio(streamId: string): string {
  return `{"event":"clearAudio","streamId":${JSON.stringify(streamId)}}`;
}
