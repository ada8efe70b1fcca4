/**
 * Vonage signed webhooks (https://developer.vonage.com/en/getting-started/concepts/webhooks#decoding-signed-webhooks,
 * and the Voice API webhook reference): the request carries `Authorization: Bearer <JWT>`, HS256
 * with the account's signature secret; claims include `iat`, `jti`, `iss` ("Vonage"), `api_key`,
 * `application_id` and `payload_hash`, the hex SHA-256 of the payload: the raw body of a POST, or
 * for a GET the query parameters as a JSON object in their order, without whitespace (Vonage
 * support: "How do I verify that the Voice API Webhook request and its payload has not been
 * tampered"). Checked here: the algorithm is HS256, the signature (constant time), `exp` when
 * present, and `payload_hash` when present. Nothing throws: a bad token is `false` with a reason.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A bound on the token (Vonage's are a few hundred characters). */
const MAX_TOKEN_CHARS = 4096;

export type JwtCheck = { readonly ok: true; readonly claims: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: string };

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies an HS256 JWT under `secret`; `nowSeconds` for the `exp` check. */
export function verifyHs256(token: string, secret: string, nowSeconds: number): JwtCheck {
  if (secret === '') return { ok: false, reason: 'no secret' };
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'token too long' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header?.['alg'] !== 'HS256') return { ok: false, reason: 'alg is not HS256' };
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const received = Buffer.from(signaturePart, 'base64url');
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) return { ok: false, reason: 'bad signature' };
  const claims = decodeJson(payloadPart);
  if (claims === undefined) return { ok: false, reason: 'claims are not a JSON object' };
  const exp = claims['exp'];
  if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSeconds)) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

/** The payload a GET webhook's `payload_hash` covers: its query parameters as a JSON object, in order. */
export function queryPayload(search: URLSearchParams): string {
  const object: Record<string, string> = {};
  for (const [name, value] of search) object[name] = value;
  return JSON.stringify(object);
}

/**
 * True when `authorization` (the header) is a Vonage-signed JWT under `secret` whose
 * `payload_hash`, if present, is the SHA-256 of `payload` (the raw POST body, or queryPayload()).
 */
export function verifySignedWebhook(authorization: string | undefined, secret: string, payload: string, nowSeconds: number = Date.now() / 1000): JwtCheck {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (match === null) return { ok: false, reason: 'no bearer token' };
  const checked = verifyHs256(match[1] ?? '', secret, nowSeconds);
  if (!checked.ok) return checked;
  const hash = checked.claims['payload_hash'];
  if (hash === undefined) return checked;
  const actual = createHash('sha256').update(payload, 'utf8').digest('hex');
  if (typeof hash !== 'string' || hash.length !== actual.length || !timingSafeEqual(Buffer.from(hash.toLowerCase()), Buffer.from(actual))) {
    return { ok: false, reason: 'payload_hash does not match' };
  }
  return checked;
}

/** A signed JWT as Vonage would send (tests and fakes; the gateway only verifies). */
export function signHs256(claims: Readonly<Record<string, unknown>>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** The hex SHA-256 Vonage puts in `payload_hash`. */
export function payloadHash(payload: string): string {
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}
