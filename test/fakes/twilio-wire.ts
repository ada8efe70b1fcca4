/**
 * How the fake Twilio caller reads a server → Twilio message: as strictly as Twilio documents it
 * (/work/shared/protocols.md §3). Unknown event, wrong streamSid, missing or extra fields and bad
 * base64 are violations (Twilio logs 31951 for them; whether it then drops the message is not
 * documented, so the fake drops it and reports it). Shares no code with the gateway's codec.
 */

import { randomBytes } from 'node:crypto';
import type { CallerWire } from './caller-wire.js';

/** Canonical base64 (padding required), as the carriers' JSON carries it. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type ServerMessage =
  | { readonly event: 'media'; readonly bytes: Uint8Array }
  | { readonly event: 'mark'; readonly name: string }
  | { readonly event: 'clear' }
  /** `event` is the event name when one could be read, else `invalid`. */
  | { readonly event: string; readonly violation: string; readonly detail: string };

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `obj` has exactly `keys` as own keys (a carrier rejects extra and missing fields alike). */
export function exactKeys(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(obj, k));
}

type Violation = { readonly event: string; readonly violation: string; readonly detail: string };

/** A server message as a JSON object with a string `event`, or the violation a carrier would log. */
export function eventMessage(text: string): { readonly msg: Record<string, unknown>; readonly event: string } | Violation {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { event: 'invalid', violation: 'bad-json', detail: text.slice(0, 80) };
  }
  if (!isObject(msg) || typeof msg['event'] !== 'string') return { event: 'invalid', violation: 'no-event', detail: text.slice(0, 80) };
  return { msg, event: msg['event'] };
}

/** The bytes of a media payload, which must be canonical, non-empty base64. */
export function payloadBytes(event: string, payload: unknown): Uint8Array | Violation {
  if (typeof payload !== 'string' || payload === '' || !BASE64.test(payload)) return { event, violation: 'bad-base64', detail: String(payload).slice(0, 40) };
  return new Uint8Array(Buffer.from(payload, 'base64'));
}

/**
 * Checks one text message of Twilio's shapes (`media`, `mark`, `clear`) against the stream
 * `streamId`, named by `idKey` (`streamSid`; Exotel `stream_sid`; undefined for Telnyx, whose
 * messages carry no stream id: then the key must be absent like any other extra field).
 */
export function readTwilioShapedMessage(text: string, streamId: string, idKey: string | undefined): ServerMessage {
  const read = eventMessage(text);
  if ('violation' in read) return read;
  const { msg, event } = read;
  if (idKey !== undefined && msg[idKey] !== streamId) return { event, violation: 'wrong-stream', detail: String(msg[idKey]) };
  const envelope = idKey === undefined ? ['event'] : ['event', idKey];
  const badFields = { event, violation: 'bad-fields', detail: text.slice(0, 120) };
  switch (event) {
    case 'media': {
      const media = msg['media'];
      if (!exactKeys(msg, [...envelope, 'media']) || !isObject(media) || !exactKeys(media, ['payload'])) return badFields;
      const bytes = payloadBytes(event, media['payload']);
      return bytes instanceof Uint8Array ? { event, bytes } : bytes;
    }
    case 'mark': {
      const mark = msg['mark'];
      if (!exactKeys(msg, [...envelope, 'mark']) || !isObject(mark) || !exactKeys(mark, ['name'])) return badFields;
      const name = mark['name'];
      return typeof name === 'string' ? { event, name } : badFields;
    }
    case 'clear':
      return exactKeys(msg, envelope) ? { event } : badFields;
    default:
      return { event, violation: 'unknown-event', detail: event.slice(0, 40) };
  }
}

/** Checks one text message from the server against the stream `streamSid`. */
export function readServerMessage(text: string, streamSid: string): ServerMessage {
  return readTwilioShapedMessage(text, streamSid, 'streamSid');
}

/**
 * {@link readServerMessage} for one stream, with a fast path for the compact layout the gateway and
 * the naive forwarder send (`{"event":"media","streamSid":"…","media":{"payload":"…"}}`, the same
 * for `mark` and `clear`): string compares and a base64 round trip instead of JSON.parse and the
 * BASE64 regex, for a load generator reading tens of thousands of messages a second. A text the fast
 * path does not accept for sure goes to the strict reader, so the verdict and the bytes are the same
 * for every text (test/fakes/twilio-wire.test.ts checks it with fast-check).
 */
export class TwilioServerReader {
  private readonly mediaPrefix: string;
  private readonly markPrefix: string;
  private readonly clearText: string;

  constructor(readonly streamSid: string) {
    const envelope = (event: string): string => `{"event":"${event}","streamSid":${JSON.stringify(streamSid)}`;
    this.mediaPrefix = `${envelope('media')},"media":{"payload":"`;
    this.markPrefix = `${envelope('mark')},"mark":{"name":"`;
    this.clearText = `${envelope('clear')}}`;
  }

  read(text: string): ServerMessage {
    return this.readFast(text) ?? readServerMessage(text, this.streamSid);
  }

  /** The message when `text` is in the compact layout and valid, else undefined (not a verdict). */
  readFast(text: string): ServerMessage | undefined {
    if (text.endsWith('"}}')) {
      // Each prefix ends with the quote that opens the value: the closing `"}}` must come after it.
      if (text.startsWith(this.mediaPrefix) && text.length >= this.mediaPrefix.length + 3) {
        const payload = text.slice(this.mediaPrefix.length, -3);
        const bytes = Buffer.from(payload, 'base64');
        // Node's decoder skips what is not base64; encoding back gives `payload` only when it was
        // canonical, padded base64 of these bytes (all of which BASE64 accepts).
        if (bytes.length > 0 && bytes.toString('base64') === payload) return { event: 'media', bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
      } else if (text.startsWith(this.markPrefix) && text.length >= this.markPrefix.length + 3) {
        const name = text.slice(this.markPrefix.length, -3);
        if (isPlainJsonString(name)) return { event: 'mark', name };
      }
    } else if (text === this.clearText) return { event: 'clear' };
    return undefined;
  }
}

/** True when `"${s}"` is a JSON string whose value is `s` itself (no quote, backslash or control char). */
function isPlainJsonString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Twilio itself as a fake caller's wire (caller-wire.ts). */
export const TWILIO_WIRE: CallerWire = {
  name: 'twilio',
  encoding: 'pcmu',
  clearMarks: 'echo',
  mediaUnitBytes: 1,
  newIds: () => ({ streamId: sid('MZ'), callId: sid('CA'), accountId: sid('AC') }),
  connected: () => ({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
  start: (ids, sequenceNumber, customParameters, overrides) => ({
    event: 'start',
    sequenceNumber,
    start: {
      accountSid: ids.accountId,
      streamSid: ids.streamId,
      callSid: ids.callId,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { ...customParameters },
      ...overrides,
    },
    streamSid: ids.streamId,
  }),
  media: (ids, sequenceNumber, chunk, timestamp, payload) => ({ event: 'media', sequenceNumber, media: { track: 'inbound', chunk, timestamp, payload }, streamSid: ids.streamId }),
  markEcho: (ids, sequenceNumber, name) => ({ event: 'mark', sequenceNumber, streamSid: ids.streamId, mark: { name } }),
  dtmf: (ids, sequenceNumber, digit) => ({ event: 'dtmf', streamSid: ids.streamId, sequenceNumber, dtmf: { track: 'inbound_track', digit } }),
  stop: (ids, sequenceNumber) => ({ event: 'stop', sequenceNumber, streamSid: ids.streamId, stop: { accountSid: ids.accountId, callSid: ids.callId } }),
  read: (text, ids) => readServerMessage(text, ids.streamId),
};
