/**
 * Pure codec for Telnyx Media Streaming over WebSocket (TeXML `<Stream bidirectionalMode="rtp">`
 * or Call Control `stream_bidirectional_mode: "rtp"`): JSON text ⇄ the media-stream events, no
 * I/O. Sources: https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket
 * and https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming (golden
 * fixtures in test/fixtures/telnyx/ name their source).
 *
 * Differences from Twilio's dialect: snake_case (`stream_id`, `sequence_number`,
 * `call_control_id`, `media_format.sample_rate`); `connected` carries only `version`; the stream
 * id is a UUID and the call id `v3:…`; an `error` frame reports problems on the stream; what we
 * send carries no stream id (`{"event":"clear"}`). Audio: PCMU 8 kHz (the default and the only
 * codec accepted here: L16 RTP payloads are big-endian and other codecs need transcoding).
 *
 * Parsing never throws: every input is a typed event or a coded error naming the field. Unknown
 * extra fields are ignored (carriers add fields over time).
 */
import { TWILIO_FORMAT } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import type { StreamInbound, StreamParseResult } from '../media-stream/dialect.js';
import { streamSerializers } from '../media-stream/stream-serializers.js';
import { BadField, base64PayloadAt, digitsAt, idAt, isObject, objectAt, optionalDigitsAt, parseJsonMessage, stringAt, stringMapAt, type Json } from '../media-stream/json-fields.js';
import { DTMF_DIGIT } from '../twilio/messages.js';

/** Largest text message accepted (a 1 s PCMU payload is ~10.7 k characters). */
export const TELNYX_MAX_MESSAGE_CHARS = 64 * 1024;
/** Largest inbound payload: 1 s of PCMU. Telnyx sends 20 ms frames. */
export const TELNYX_MAX_PAYLOAD_BYTES = 8000;
export const TELNYX_EVENTS = ['connected', 'start', 'media', 'mark', 'dtmf', 'stop', 'error'] as const;
/** `stream_id` (UUID), `call_control_id` (`v3:…` with `-`/`_`): letters, digits and `:_.-`. */
export const TELNYX_ID = /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,127}$/;

const KNOWN: ReadonlySet<string> = new Set(TELNYX_EVENTS);
const MAX_PARAMETERS = 64;
const MAX_PARAMETER_CHARS = 1024;

function parseStart(root: Json, streamId: string): StreamInbound {
  const start = objectAt(root, 'start', 'start');
  const format = objectAt(start, 'media_format', 'start.media_format');
  if (format['encoding'] !== 'PCMU') throw new BadField('start.media_format.encoding', vwError('VW_ERR_BAD_FIELD', 'start.media_format.encoding (only PCMU is supported)'));
  if (format['sample_rate'] !== 8000) throw new BadField('start.media_format.sample_rate');
  if (format['channels'] !== undefined && format['channels'] !== 1) throw new BadField('start.media_format.channels');
  const detail: Record<string, unknown> = {};
  for (const key of ['call_session_id', 'from', 'to'] as const) if (typeof start[key] === 'string') detail[key] = (start[key]).slice(0, 64);
  return {
    event: 'start',
    streamId,
    callId: idAt(start, 'call_control_id', 'start.call_control_id', TELNYX_ID),
    parameters: stringMapAt(start, 'custom_parameters', 'start.custom_parameters', MAX_PARAMETERS, MAX_PARAMETER_CHARS),
    format: TWILIO_FORMAT,
    detail,
  };
}

function parseMedia(root: Json, streamId: string, out: Uint8Array): StreamInbound {
  const media = objectAt(root, 'media', 'media');
  const track = media['track'] === undefined ? undefined : stringAt(media, 'track', 'media.track', 32);
  optionalDigitsAt(media, 'chunk', 'media.chunk');
  optionalDigitsAt(media, 'timestamp', 'media.timestamp');
  const payload = base64PayloadAt(media, 'payload', 'media.payload', out);
  return { event: 'media', streamId, track, payload };
}

function parseError(root: Json): StreamInbound {
  const payload = isObject(root['payload']) ? root['payload'] : {};
  const code = payload['code'];
  const title = typeof payload['title'] === 'string' ? payload['title'] : '';
  const detail = typeof payload['detail'] === 'string' ? payload['detail'] : '';
  const streamId = typeof root['stream_id'] === 'string' && TELNYX_ID.test(root['stream_id']) ? root['stream_id'] : undefined;
  return { event: 'error', streamId, code: String(typeof code === 'number' || typeof code === 'string' ? code : title).slice(0, 64), detail: `${title} ${detail}`.trim().slice(0, 200) };
}

function parseEvent(root: Json, event: string, out: Uint8Array): StreamInbound {
  if (event === 'connected') return { event };
  if (event === 'error') return parseError(root);
  digitsAt(root, 'sequence_number', 'sequence_number');
  const streamId = idAt(root, 'stream_id', 'stream_id', TELNYX_ID);
  switch (event) {
    case 'start':
      return parseStart(root, streamId);
    case 'media':
      return parseMedia(root, streamId, out);
    case 'mark':
      return { event, streamId, name: stringAt(objectAt(root, 'mark', 'mark'), 'name', 'mark.name', 256) };
    case 'dtmf': {
      const digit = objectAt(root, 'dtmf', 'dtmf')['digit'];
      if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) throw new BadField('dtmf.digit');
      return { event, streamId, digit };
    }
    default:
      // 'stop': its `stop` object (user_id, call_control_id) adds nothing the start did not say.
      return { event: 'stop', streamId };
  }
}

/** Parses one text frame from Telnyx; a media payload is decoded into `mediaOut` (a view, valid until the next parse). */
export function parseTelnyxMessage(text: string, mediaOut: Uint8Array): StreamParseResult {
  return parseJsonMessage(text, TELNYX_MAX_MESSAGE_CHARS, KNOWN, (root, event) => parseEvent(root, event, mediaOut));
}

// Server → Telnyx: Twilio's shapes with no stream id (one stream per socket).
const TELNYX_OUT = streamSerializers(undefined);
export const serializeTelnyxMedia = TELNYX_OUT.media;
export const serializeTelnyxMark = TELNYX_OUT.mark;
export const serializeTelnyxClear = TELNYX_OUT.clear;
