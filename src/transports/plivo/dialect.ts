/**
 * Plivo Audio Streams as a media-stream dialect (../media-stream/dialect.ts): the pure codec
 * (codec.ts) read as the shared adapter's messages. `checkpoint` is the mark and `playedStream` its
 * echo; `clearAudio` is the flush and `clearedAudio` a notice (the credit never waits for it);
 * `playAudio` names the stream's format, so it is built from the format `start` announced.
 */
import { TWILIO_FORMAT, type AudioFormat } from '../../audio/format.js';
import type { MediaStreamDialect, StreamParseResult } from '../media-stream/dialect.js';
import { MAX_MEDIA_PAYLOAD_BYTES, MAX_MESSAGE_CHARS, parsePlivoMessage, serializeCheckpoint, serializeClearAudio, serializePlayAudio } from './codec.js';
import { PLIVO_L16, PLIVO_MULAW, type PlivoInbound, type PlivoMediaFormat } from './messages.js';

/** The voicewire format of a Plivo stream format. */
export function audioFormatOf(format: PlivoMediaFormat): AudioFormat {
  return format.encoding === PLIVO_MULAW ? TWILIO_FORMAT : { encoding: 'pcm16', sampleRate: format.sampleRate };
}

/** The Plivo stream format of a voicewire format (only Plivo's own formats reach here: see `start`). */
function plivoFormatOf(format: AudioFormat): PlivoMediaFormat {
  return format.encoding === 'pcmu' ? { encoding: PLIVO_MULAW, sampleRate: 8000 } : { encoding: PLIVO_L16, sampleRate: format.sampleRate === 16000 ? 16000 : 8000 };
}

/**
 * `extra_headers` as parameters: Plivo documents `k=v,k=v` for the attribute and shows `k=v;k=v`
 * in the start message, so both separators are accepted. Bounded (32 pairs); a "__proto__" name
 * stays a plain key.
 */
export function parseExtraHeaders(text: string): Readonly<Record<string, string>> {
  const pairs: Array<[string, string]> = [];
  for (const part of text.split(/[;,]/).slice(0, 32)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return Object.fromEntries(pairs);
}

function asStreamInbound(message: PlivoInbound): StreamParseResult {
  switch (message.event) {
    case 'start':
      return {
        ok: true,
        message: {
          event: 'start',
          streamId: message.streamId,
          callId: message.callId,
          parameters: parseExtraHeaders(message.extraHeaders),
          format: audioFormatOf(message.mediaFormat),
          detail: { format: message.mediaFormat, tracks: message.tracks },
        },
      };
    case 'media':
      return { ok: true, message: { event: 'media', streamId: message.streamId, track: message.track, payload: message.payload } };
    case 'dtmf':
      return { ok: true, message: { event: 'dtmf', streamId: message.streamId, digit: message.digit } };
    case 'playedStream':
      return { ok: true, message: { event: 'mark', streamId: message.streamId, name: message.name } };
    case 'clearedAudio':
      return { ok: true, message: { event: 'notice', what: 'clearedAudio', streamId: message.streamId } };
    case 'stop':
      return { ok: true, message: { event: 'stop', streamId: message.streamId } };
  }
}

export const PLIVO_DIALECT: MediaStreamDialect = {
  kind: 'plivo',
  label: 'plivo',
  owner: 'PlivoTransport',
  // Replaced by the format `start` announces; nothing is sent before it.
  defaultFormat: TWILIO_FORMAT,
  maxMessageChars: MAX_MESSAGE_CHARS,
  maxPayloadBytes: MAX_MEDIA_PAYLOAD_BYTES,
  // A bidirectional stream carries only the caller's track.
  callerTrack: 'inbound',
  outboundAlignBytes: 1,
  // Whole samples are checked by the adapter once `start` has fixed the format.
  parse: (text, mediaOut) => {
    const result = parsePlivoMessage(text, { mediaOut });
    return result.ok ? asStreamInbound(result.message) : { ok: false, error: result.error };
  },
  serializeMedia: (_streamId, bytes, start, end, format) => serializePlayAudio(plivoFormatOf(format), bytes, start, end),
  serializeMark: serializeCheckpoint,
  serializeClear: serializeClearAudio,
};
