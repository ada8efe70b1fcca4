/**
 * `X-Plivo-Signature-V3` validation, as Plivo's SDKs do it (plivo-node `lib/utils/v3Security.js`,
 * plivo-python `plivo/utils/signature_v3.py`; https://www.plivo.com/docs/voice/xml/request/validation):
 *
 *   base = scheme://host[:port]/path
 *   GET:  base + ('?' + sorted "k=v" pairs of the query joined by '&', when there are any)
 *   POST: base + '?' + [sorted query pairs + '.' when there is a query] + Σ name+value of the sorted
 *         form parameters (values of a repeated name sorted), no separators; with no form
 *         parameters, as GET
 *   signature = base64(HMAC-SHA256(authToken, signedUrl + '.' + nonce))
 *
 * The header may list several signatures separated by commas (token rotation): any match passes.
 * Every comparison is constant time. Plivo's stream SDK also checks the WebSocket upgrade of the
 * audio stream this way (method GET, the URL it connected to).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Form or query parameters: name → values (repeated names kept). */
export type PlivoParams = ReadonlyMap<string, readonly string[]>;

function merge(into: Map<string, string[]>, from: Iterable<[string, string]>): void {
  for (const [name, value] of from) {
    const list = into.get(name);
    if (list) list.push(value);
    else into.set(name, [value]);
  }
}

function sortedQuery(params: ReadonlyMap<string, readonly string[]>): string {
  const parts: string[] = [];
  for (const name of [...params.keys()].sort()) for (const value of [...(params.get(name) ?? [])].sort()) parts.push(`${name}=${value}`);
  return parts.join('&');
}

function sortedConcat(params: PlivoParams): string {
  let out = '';
  for (const name of [...params.keys()].sort()) for (const value of [...(params.get(name) ?? [])].sort()) out += name + value;
  return out;
}

/** The exact string Plivo signs (before `.nonce`) for `method` on `url` with form `params`. */
export function plivoSignedUrl(method: 'GET' | 'POST', url: string, params: PlivoParams = new Map()): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const query = new Map<string, string[]>();
  merge(query, parsed.searchParams);
  const postParams = method === 'POST' ? params : new Map<string, readonly string[]>();
  if (method === 'GET') merge(query, [...params].flatMap(([name, values]) => values.map((v): [string, string] => [name, v])));
  const queryString = sortedQuery(query);
  const emptyPost = postParams.size === 0;
  let signed = base;
  if (queryString.length > 0 || !emptyPost) signed += `?${queryString}`;
  if (queryString.length > 0 && !emptyPost) signed += '.';
  return signed + sortedConcat(postParams);
}

/** The V3 signature Plivo would send for this request. */
export function computePlivoSignature(authToken: string, nonce: string, method: 'GET' | 'POST', url: string, params?: PlivoParams): string | undefined {
  const signed = plivoSignedUrl(method, url, params);
  if (signed === undefined) return undefined;
  return createHmac('sha256', authToken).update(`${signed}.${nonce}`, 'utf8').digest('base64');
}

/**
 * True when one of the comma-separated `signatureHeader` values is Plivo's V3 signature of the
 * request for one of `urls` (the public URL in the forms it may have been signed in). Missing
 * header, nonce or token: false.
 */
export function validatePlivoSignature(
  authToken: string,
  signatureHeader: string | undefined,
  nonce: string | undefined,
  method: 'GET' | 'POST',
  urls: readonly string[],
  params?: PlivoParams,
): boolean {
  if (authToken === '' || !signatureHeader || !nonce) return false;
  const received = signatureHeader.split(',').map((s) => Buffer.from(s.trim(), 'utf8')).slice(0, 8);
  let valid = false;
  for (const url of urls) {
    const expected = computePlivoSignature(authToken, nonce, method, url, params);
    if (expected === undefined) continue;
    const want = Buffer.from(expected, 'utf8');
    for (const got of received) valid = (want.length === got.length && timingSafeEqual(want, got)) || valid;
  }
  return valid;
}
