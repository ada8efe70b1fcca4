/** Exotel AgentStream (Voicebot applet) as a media-stream dialect (../media-stream/dialect.ts). */
import { PCM16_8K } from '../../audio/format.js';
import type { MediaStreamDialect } from '../media-stream/dialect.js';
import {
  EXOTEL_CHUNK_UNIT_BYTES,
  EXOTEL_MAX_MESSAGE_CHARS,
  EXOTEL_MAX_PAYLOAD_BYTES,
  parseExotelMessage,
  serializeExotelClear,
  serializeExotelMark,
  serializeExotelMedia,
} from './codec.js';

export const EXOTEL_DIALECT: MediaStreamDialect = {
  kind: 'exotel',
  label: 'exotel',
  owner: 'ExotelTransport',
  defaultFormat: PCM16_8K,
  maxMessageChars: EXOTEL_MAX_MESSAGE_CHARS,
  maxPayloadBytes: EXOTEL_MAX_PAYLOAD_BYTES,
  // Exotel's media messages carry no track: all of them are the caller.
  callerTrack: 'inbound',
  outboundAlignBytes: EXOTEL_CHUNK_UNIT_BYTES,
  parse: parseExotelMessage,
  serializeMedia: serializeExotelMedia,
  serializeMark: serializeExotelMark,
  serializeClear: serializeExotelClear,
};
