/** Telnyx Media Streaming as a media-stream dialect (../media-stream/dialect.ts). */
import { TWILIO_FORMAT } from '../../audio/format.js';
import type { MediaStreamDialect } from '../media-stream/dialect.js';
import { TELNYX_MAX_MESSAGE_CHARS, TELNYX_MAX_PAYLOAD_BYTES, parseTelnyxMessage, serializeTelnyxClear, serializeTelnyxMark, serializeTelnyxMedia } from './codec.js';

export const TELNYX_DIALECT: MediaStreamDialect = {
  kind: 'telnyx',
  label: 'telnyx',
  owner: 'TelnyxTransport',
  defaultFormat: TWILIO_FORMAT,
  maxMessageChars: TELNYX_MAX_MESSAGE_CHARS,
  maxPayloadBytes: TELNYX_MAX_PAYLOAD_BYTES,
  callerTrack: 'inbound',
  outboundAlignBytes: 1,
  parse: parseTelnyxMessage,
  serializeMedia: serializeTelnyxMedia,
  serializeMark: serializeTelnyxMark,
  serializeClear: serializeTelnyxClear,
};
