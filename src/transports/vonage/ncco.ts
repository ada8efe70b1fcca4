/**
 * The NCCO that answers a call by connecting it to our media WebSocket
 * (https://developer.vonage.com/en/voice/voice-api/ncco-reference#connect, endpoint type
 * `websocket`):
 *
 *   [{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://host/vonage/media?…",
 *     "content-type":"audio/l16;rate=16000","headers":{"uuid":…,"from":…,"to":…}}]}]
 *
 * The endpoint's `headers` come back flattened into `websocket:connected` (Vonage caps them at
 * 512 bytes). The upgrade itself carries no webhook signature, so when a signature secret is
 * configured the `uri` carries a short-lived grant — `call`, `exp` and an HMAC of both under the
 * secret — made here while answering a verified webhook and checked on the upgrade (403
 * otherwise). (The endpoint's `authorization` option could set an Authorization header instead;
 * a query grant works whatever that option's format, and Vonage's examples use query strings.)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VonageRate } from './messages.js';

export const NCCO_CONTENT_TYPE = 'application/json';
/** How long a media grant stays valid (Vonage connects right after the answer). */
export const MEDIA_GRANT_TTL_SECONDS = 300;
const MAX_HEADER_BYTES = 512;

function grantMac(secret: string, call: string, exp: number): string {
  return createHmac('sha256', secret).update(`vonage-media\n${call}\n${exp}`).digest('base64url');
}

/** `?call=…&exp=…&sig=…` for the media URL of call `call`. */
export function mediaGrantQuery(secret: string, call: string, nowSeconds: number): string {
  const exp = Math.floor(nowSeconds) + MEDIA_GRANT_TTL_SECONDS;
  return `?${new URLSearchParams({ call, exp: String(exp), sig: grantMac(secret, call, exp) }).toString()}`;
}

/** True when `search` (the upgrade's query) holds an unexpired grant made under `secret`. */
export function verifyMediaGrant(secret: string, search: URLSearchParams, nowSeconds: number): boolean {
  const call = search.get('call');
  const expText = search.get('exp');
  const sig = search.get('sig');
  if (!call || !expText || !sig || !/^[0-9]{1,12}$/.test(expText) || call.length > 128) return false;
  const exp = Number(expText);
  if (exp <= nowSeconds) return false;
  const expected = Buffer.from(grantMac(secret, call, exp));
  const received = Buffer.from(sig);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** The answer webhook's fields worth passing to the stream (uuid, conversation_uuid, from, to). */
export function pickVonageHeaders(fields: Readonly<Record<string, unknown>>): Record<string, string> {
  const picked: Record<string, string> = {};
  let bytes = 2;
  for (const name of ['uuid', 'conversation_uuid', 'from', 'to']) {
    const value = fields[name];
    if (typeof value !== 'string' || value === '') continue;
    const cost = JSON.stringify(name).length + JSON.stringify(value).length + 2;
    if (bytes + cost > MAX_HEADER_BYTES) break;
    bytes += cost;
    picked[name] = value;
  }
  return picked;
}

export function websocketNcco(uri: string, rate: VonageRate, headers: Readonly<Record<string, string>>): unknown[] {
  return [{ action: 'connect', endpoint: [{ type: 'websocket', uri, 'content-type': `audio/l16;rate=${rate}`, headers }] }];
}
