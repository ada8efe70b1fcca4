/**
 * Pure codec for Exotel AgentStream (Voicebot applet, bidirectional): JSON text ⇄ media-stream
 * events, no I/O. Source: https://developer.exotel.com/docs/agentstream/websocket-protocol and
 * https://developer.exotel.com/docs/agentstream/stream-voicebot-applet (golden fixtures in
 * test/fixtures/exotel/ name their source).
 *
 * Differences from Twilio's dialect: snake_case (`stream_sid`, `sequence_number`, `call_sid`,
 * `custom_parameters`, `media_format`); `connected` carries nothing else; media has no track;
 * `media_format.sample_rate` is a string ("8000", "16000" or "24000", chosen by the applet's
 * `?sample-rate=`); audio is raw PCM16 little-endian mono, base64, both ways. What we send
 * (`media`, `mark`, `clear`) carries `stream_sid`; outbound media must come in multiples of
 * 320 bytes (the adapter's `outboundAlignBytes`).
 *
 * `media_format.encoding` differs between Exotel's pages ("audio/x-raw", "base64") and is not
 * checked; the sample rate decides the format. Parsing never throws.
 */
import type { AudioFormat, SampleRate } from '../../audio/format.js';
import { PCM16_16K, PCM16_24K, PCM16_8K } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import type { StreamInbound, StreamParseResult } from '../media-stream/dialect.js';
import { streamSerializers } from '../media-stream/stream-serializers.js';
import { BadField, base64PayloadAt, digitsAt, idAt, objectAt, optionalDigitsAt, parseJsonMessage, stringAt, stringMapAt, type Json } from '../media-stream/json-fields.js';
import { DTMF_DIGIT } from '../twilio/messages.js';

export const EXOTEL_MAX_MESSAGE_CHARS = 64 * 1024;
/** Largest inbound payload: 1 s of PCM16 at 16 kHz (Exotel sends 20–100 ms frames). */
export const EXOTEL_MAX_PAYLOAD_BYTES = 32_000;
/** Outbound media must be a whole multiple of this many bytes (Exotel: "multiple of 320 bytes"). */
export const EXOTEL_CHUNK_UNIT_BYTES = 320;
export const EXOTEL_EVENTS = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop'] as const;
/** Exotel sids (`MZ…`, `CA…`, 32-hex call sids): letters, digits, `_` and `-`. */
export const EXOTEL_SID = /^[A-Za-z0-9_-]{1,128}$/;

const KNOWN: ReadonlySet<string> = new Set(EXOTEL_EVENTS);
const FORMATS: Readonly<Record<string, AudioFormat>> = { '8000': PCM16_8K, '16000': PCM16_16K, '24000': PCM16_24K };
/** Up to 3 custom parameters of 256 characters in total per Exotel; bounded more loosely here. */
const MAX_PARAMETERS = 16;
const MAX_PARAMETER_CHARS = 512;

/** The PCM16 format of a `sample_rate` (a string per the docs; a number is tolerated). */
export function exotelFormat(sampleRate: unknown): AudioFormat | undefined {
  const key = typeof sampleRate === 'number' ? String(sampleRate) : sampleRate;
  return typeof key === 'string' && Object.hasOwn(FORMATS, key) ? FORMATS[key] : undefined;
}

export const EXOTEL_SAMPLE_RATES: readonly SampleRate[] = [8000, 16000, 24000];

function parseStart(root: Json, streamId: string): StreamInbound {
  const start = objectAt(root, 'start', 'start');
  if (idAt(start, 'stream_sid', 'start.stream_sid', EXOTEL_SID) !== streamId) throw new BadField('start.stream_sid');
  const mediaFormat = objectAt(start, 'media_format', 'start.media_format');
  const format = exotelFormat(mediaFormat['sample_rate']);
  if (format === undefined) throw new BadField('start.media_format.sample_rate');
  const detail: Record<string, unknown> = {};
  for (const key of ['account_sid', 'from', 'to'] as const) if (typeof start[key] === 'string') detail[key] = (start[key]).slice(0, 64);
  return {
    event: 'start',
    streamId,
    callId: idAt(start, 'call_sid', 'start.call_sid', EXOTEL_SID),
    parameters: stringMapAt(start, 'custom_parameters', 'start.custom_parameters', MAX_PARAMETERS, MAX_PARAMETER_CHARS),
    format,
    detail,
  };
}

function parseMedia(root: Json, streamId: string, out: Uint8Array): StreamInbound {
  const media = objectAt(root, 'media', 'media');
  optionalDigitsAt(media, 'chunk', 'media.chunk');
  optionalDigitsAt(media, 'timestamp', 'media.timestamp');
  const payload = base64PayloadAt(media, 'payload', 'media.payload', out);
  // PCM16: half a sample cannot be played (or split across messages: Exotel sends whole frames).
  if (payload.length % 2 !== 0) throw new BadField('media.payload', vwError('VW_ERR_BAD_PAYLOAD_SIZE', payload.length));
  return { event: 'media', streamId, track: undefined, payload };
}

function parseEvent(root: Json, event: string, out: Uint8Array): StreamInbound {
  if (event === 'connected') return { event };
  digitsAt(root, 'sequence_number', 'sequence_number');
  const streamId = idAt(root, 'stream_sid', 'stream_sid', EXOTEL_SID);
  switch (event) {
    case 'start':
      return parseStart(root, streamId);
    case 'media':
      return parseMedia(root, streamId, out);
    case 'mark':
      return { event, streamId, name: stringAt(objectAt(root, 'mark', 'mark'), 'name', 'mark.name', 256) };
    case 'dtmf': {
      const dtmf = objectAt(root, 'dtmf', 'dtmf');
      const digit = dtmf['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw new BadField('dtmf.digit');
      optionalDigitsAt(dtmf, 'duration', 'dtmf.duration');
      return { event, streamId, digit };
    }
    default:
      // 'stop': `stop.reason` (stopped | callended) does not change what the gateway does.
      return { event: 'stop', streamId };
  }
}

/** Parses one text frame from Exotel; a media payload is decoded into `mediaOut` (a view, valid until the next parse). */
export function parseExotelMessage(text: string, mediaOut: Uint8Array): StreamParseResult {
  return parseJsonMessage(text, EXOTEL_MAX_MESSAGE_CHARS, KNOWN, (root, event) => parseEvent(root, event, mediaOut));
}

// Server → Exotel: Twilio's shapes, the stream named `stream_sid`.
const EXOTEL_OUT = streamSerializers('stream_sid');
export const serializeExotelMedia = EXOTEL_OUT.media;
export const serializeExotelMark = EXOTEL_OUT.mark;
export const serializeExotelClear = EXOTEL_OUT.clear;
