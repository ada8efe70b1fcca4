/**
 * What the gateway sends on Twilio-shaped streams (`media`, `mark`, `clear`): Twilio, SignalWire,
 * Exotel and Telnyx send the same three messages and differ only in the key naming the stream
 * (`streamSid`, `stream_sid`, or none: Telnyx has one stream per socket).
 *
 * Built as strings: they run per media message, and the only dynamic values are the stream id and
 * the mark name (JSON-escaped) and base64 (which needs no escaping).
 */
import { encodeBase64 } from '../../audio/base64.js';

/** The three outbound messages of one dialect; each takes the stream id (ignored when the dialect names none). */
export interface StreamSerializers {
  /** A `media` message carrying `bytes[start, end)` as base64. */
  readonly media: (streamId: string, bytes: Uint8Array, start?: number, end?: number) => string;
  readonly mark: (streamId: string, name: string) => string;
  readonly clear: (streamId: string) => string;
}

/** Serializers naming the stream under `idKey`, or not at all when it is undefined. */
export function streamSerializers(idKey: string | undefined): StreamSerializers {
  const idField = idKey === undefined ? (): string => '' : (streamId: string): string => `,"${idKey}":${JSON.stringify(streamId)}`;
  return {
    media: (streamId, bytes, start = 0, end = bytes.length) => `{"event":"media"${idField(streamId)},"media":{"payload":"${encodeBase64(bytes, start, end)}"}}`,
    mark: (streamId, name) => `{"event":"mark"${idField(streamId)},"mark":{"name":${JSON.stringify(name)}}}`,
    clear: (streamId) => `{"event":"clear"${idField(streamId)}}`,
  };
}
