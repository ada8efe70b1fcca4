/**
 * Twilio Media Streams as a media-stream dialect (../media-stream/dialect.ts), parameterised so
 * that carriers speaking the same messages (SignalWire's cXML `<Stream>`) reuse it with their own
 * name and id shape. The codec (codec.ts) stays the single parser of these messages.
 */
import { TWILIO_FORMAT } from '../../audio/format.js';
import type { MediaStreamDialect, StreamInbound, StreamParseResult } from '../media-stream/dialect.js';
import type { TransportKind } from '../transport.js';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, TWILIO_SID, parseTwilioMessage, serializeClear, serializeMark, serializeMedia, type TwilioParseResult } from './codec.js';
import { readTwilioMarkEchoOf } from './mark-fast-path.js';
import { readTwilioMediaOf } from './media-fast-path.js';
import type { TwilioInbound } from './messages.js';

export interface TwilioLikeOptions {
  readonly kind: TransportKind;
  readonly label: string;
  readonly owner: string;
  /** Shape of the sids this carrier sends. */
  readonly sidPattern: RegExp;
}

/** The caller's track on a bidirectional stream. */
const CALLER_TRACK = 'inbound';

function toStreamInbound(message: TwilioInbound): StreamInbound {
  switch (message.event) {
    case 'connected':
      return { event: 'connected' };
    case 'start':
      return {
        event: 'start',
        streamId: message.streamSid,
        callId: message.callSid,
        parameters: message.customParameters,
        // The codec accepts only μ-law 8 kHz mono: the one format of a bidirectional stream.
        format: TWILIO_FORMAT,
        detail: { tracks: message.tracks, accountSid: message.accountSid },
      };
    case 'media':
      return { event: 'media', streamId: message.streamSid, track: message.track, payload: message.payload };
    case 'dtmf':
      return { event: 'dtmf', streamId: message.streamSid, digit: message.digit };
    case 'mark':
      return { event: 'mark', streamId: message.streamSid, name: message.name };
    case 'stop':
      return { event: 'stop', streamId: message.streamSid };
  }
}

function toStreamResult(result: TwilioParseResult): StreamParseResult {
  return result.ok ? { ok: true, message: toStreamInbound(result.message) } : { ok: false, error: result.error };
}

/** A dialect speaking Twilio's messages under another name. */
export function twilioLikeDialect(options: TwilioLikeOptions): MediaStreamDialect {
  const parseOptions = { sidPattern: options.sidPattern };
  return {
    kind: options.kind,
    label: options.label,
    owner: options.owner,
    defaultFormat: TWILIO_FORMAT,
    maxMessageChars: MAX_MESSAGE_CHARS,
    maxPayloadBytes: MAX_MEDIA_PAYLOAD_BYTES,
    callerTrack: CALLER_TRACK,
    outboundAlignBytes: 1,
    parse: (text, mediaOut, streamId) => toStreamResult(parseTwilioMessage(text, mediaOut, parseOptions, streamId)),
    parseTextBytes: (bytes, mediaOut, streamId) => toStreamResult(parseTwilioMessage(bytes, mediaOut, parseOptions, streamId)),
    readCallerAudio: (bytes, mediaOut, streamId) => readTwilioMediaOf(bytes, mediaOut, MAX_MESSAGE_CHARS, streamId, CALLER_TRACK),
    readMarkEcho: (bytes, streamId) => readTwilioMarkEchoOf(bytes, MAX_MESSAGE_CHARS, streamId),
    serializeMedia,
    serializeMark,
    serializeClear,
  };
}

export const TWILIO_DIALECT: MediaStreamDialect = twilioLikeDialect({ kind: 'twilio', label: 'twilio', owner: 'TwilioTransport', sidPattern: TWILIO_SID });
