/**
 * How the fake Plivo caller reads a server → Plivo message: as strictly as Plivo documents it
 * (Stream Event Protocol, https://www.plivo.com/docs/voice/audio-streaming/audio-streaming, and the
 * playAudio / checkpoint / clearAudio pages). Unknown event, wrong streamId, missing or extra
 * fields, a contentType or sampleRate other than the stream's (Plivo: "switching codecs between
 * playAudio events is not supported"), bad base64 and half samples are violations; the fake then
 * drops the message. Shares no code with the gateway's codec.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface PlivoWireFormat {
  readonly contentType: 'audio/x-mulaw' | 'audio/x-l16';
  readonly sampleRate: 8000 | 16000;
}

export type PlivoServerMessage =
  | { readonly event: 'playAudio'; readonly bytes: Uint8Array }
  | { readonly event: 'checkpoint'; readonly name: string }
  | { readonly event: 'clearAudio' }
  | { readonly event: string; readonly violation: string; readonly detail: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(obj, k));
}

/** Checks one text message from the server against the stream `streamId` and its format. */
export function readPlivoServerMessage(text: string, streamId: string, format: PlivoWireFormat): PlivoServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { event: 'invalid', violation: 'bad-json', detail: text.slice(0, 80) };
  }
  if (!isObject(msg) || typeof msg['event'] !== 'string') return { event: 'invalid', violation: 'no-event', detail: text.slice(0, 80) };
  const event = msg['event'];
  const badFields = { event, violation: 'bad-fields', detail: text.slice(0, 160) };
  switch (event) {
    case 'playAudio': {
      const media = msg['media'];
      if (!exactKeys(msg, ['event', 'media']) || !isObject(media) || !exactKeys(media, ['contentType', 'sampleRate', 'payload'])) return badFields;
      if (media['contentType'] !== format.contentType || media['sampleRate'] !== format.sampleRate) {
        return { event, violation: 'format-switch', detail: `${String(media['contentType'])}@${String(media['sampleRate'])}` };
      }
      const payload = media['payload'];
      if (typeof payload !== 'string' || payload === '' || !BASE64.test(payload)) return { event, violation: 'bad-base64', detail: String(payload).slice(0, 40) };
      const bytes = new Uint8Array(Buffer.from(payload, 'base64'));
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
