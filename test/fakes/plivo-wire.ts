/**
 * How the fake Plivo caller reads a server → Plivo message: as strictly as Plivo documents it
 * (Stream Event Protocol, https://www.plivo.com/docs/voice/audio-streaming/audio-streaming, and the
 * playAudio / checkpoint / clearAudio pages). Unknown event, wrong streamId, missing or extra
 * fields, a contentType or sampleRate other than the stream's (Plivo: "switching codecs between
 * playAudio events is not supported"), bad base64 and half samples are violations; the fake then
 * drops the message. Shares no code with the gateway's codec.
 */
import { eventMessage, exactKeys, isObject, payloadBytes } from './twilio-wire.js';

export interface PlivoWireFormat {
  readonly contentType: 'audio/x-mulaw' | 'audio/x-l16';
  readonly sampleRate: 8000 | 16000;
}

export type PlivoServerMessage =
  | { readonly event: 'playAudio'; readonly bytes: Uint8Array }
  | { readonly event: 'checkpoint'; readonly name: string }
  | { readonly event: 'clearAudio' }
  | { readonly event: string; readonly violation: string; readonly detail: string };

/** Checks one text message from the server against the stream `streamId` and its format. */
export function readPlivoServerMessage(text: string, streamId: string, format: PlivoWireFormat): PlivoServerMessage {
  const read = eventMessage(text);
  if ('violation' in read) return read;
  const { msg, event } = read;
  const badFields = { event, violation: 'bad-fields', detail: text.slice(0, 160) };
  switch (event) {
    case 'playAudio': {
      const media = msg['media'];
      if (!exactKeys(msg, ['event', 'media']) || !isObject(media) || !exactKeys(media, ['contentType', 'sampleRate', 'payload'])) return badFields;
      if (media['contentType'] !== format.contentType || media['sampleRate'] !== format.sampleRate) {
        return { event, violation: 'format-switch', detail: `${String(media['contentType'])}@${String(media['sampleRate'])}` };
      }
      const bytes = payloadBytes(event, media['payload']);
      if (!(bytes instanceof Uint8Array)) return bytes;
      if (format.contentType === 'audio/x-l16' && bytes.length % 2 !== 0) return { event, violation: 'half-sample', detail: `${bytes.length} bytes` };
      return { event, bytes };
    }
    case 'checkpoint': {
      if (!exactKeys(msg, ['event', 'streamId', 'name'])) return badFields;
      if (msg['streamId'] !== streamId) return { event, violation: 'wrong-stream', detail: String(msg['streamId']) };
      const name = msg['name'];
      return typeof name === 'string' && name !== '' ? { event, name } : badFields;
    }
    case 'clearAudio':
      if (!exactKeys(msg, ['event', 'streamId'])) return badFields;
      if (msg['streamId'] !== streamId) return { event, violation: 'wrong-stream', detail: String(msg['streamId']) };
      return { event };
    default:
      return { event, violation: 'unknown-event', detail: event.slice(0, 40) };
  }
}
