/**
 * The Vonage Voice API WebSocket as a media-stream dialect (../media-stream/dialect.ts): the pure
 * codec (codec.ts) read as the shared adapter's messages. `websocket:connected` is the start (the
 * rate from its content-type, the NCCO endpoint's headers as parameters); binary messages are
 * caller audio; a `notify` action is the mark, carrying `{ name }`, and `websocket:notify` its echo;
 * `clear` is the flush and `websocket:cleared` a notice. Outbound audio is one binary 20 ms frame
 * per message. Vonage messages name no stream (one per socket), so only the start carries an id.
 */
import { randomUUID } from 'node:crypto';
import { PCM16_16K, frameBytes } from '../../audio/format.js';
import type { MediaStreamDialect, StreamParseResult } from '../media-stream/dialect.js';
import { MAX_AUDIO_BYTES, parseVonageAudio, parseVonageText, serializeClear, serializeNotify } from './codec.js';
import type { VonageEvent } from './messages.js';

/** No Vonage message but the start names the stream; the adapter does not compare this. */
const NO_STREAM_ID = '';

function asStreamInbound(message: VonageEvent): StreamParseResult {
  switch (message.event) {
    case 'websocket:connected': {
      const { uuid, conversation_uuid: conversation, ...rest } = message.headers;
      // The call's uuid is in the endpoint's headers when the answer put it there (ours does).
      const callId = uuid ?? randomUUID();
      return {
        ok: true,
        message: {
          event: 'start',
          streamId: conversation ?? callId,
          callId,
          parameters: { ...rest, ...(uuid ? { uuid } : {}) },
          format: { encoding: 'pcm16', sampleRate: message.rate },
          detail: { contentType: message.contentType },
        },
      };
    }
    case 'websocket:notify': {
      const name = message.payload['name'];
      return { ok: true, message: { event: 'mark', streamId: NO_STREAM_ID, name: typeof name === 'string' ? name : '' } };
    }
    case 'websocket:cleared':
      return { ok: true, message: { event: 'notice', what: 'websocket:cleared', streamId: NO_STREAM_ID } };
    case 'websocket:dtmf':
      return { ok: true, message: { event: 'dtmf', streamId: NO_STREAM_ID, digit: message.digit } };
  }
}

export const VONAGE_DIALECT: MediaStreamDialect = {
  kind: 'vonage',
  label: 'vonage',
  owner: 'VonageTransport',
  defaultFormat: PCM16_16K,
  // Binary audio up to MAX_AUDIO_BYTES reaches parseBinary (which bounds it); text is bounded by the codec.
  maxMessageChars: 64 * 1024,
  maxPayloadBytes: MAX_AUDIO_BYTES,
  callerTrack: 'inbound',
  outboundAlignBytes: 2,
  outboundFrameBytes: frameBytes,
  messagesNameStream: false,
  parse: (text) => {
    const result = parseVonageText(text);
    return result.ok ? asStreamInbound(result.message) : { ok: false, error: result.error };
  },
  parseBinary: (bytes) => {
    const result = parseVonageAudio(bytes, MAX_AUDIO_BYTES);
    return result.ok ? { ok: true, message: { event: 'media', streamId: NO_STREAM_ID, track: undefined, payload: result.bytes } } : { ok: false, error: result.error };
  },
  // A copy: ws may still hold the frame after send returns, and the caller's buffer is reused.
  serializeMedia: (_streamId, bytes, start, end) => bytes.slice(start, end),
  serializeMark: (_streamId, name) => serializeNotify(name),
  serializeClear: () => serializeClear(),
};
