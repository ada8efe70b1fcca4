/**
 * `X-Twilio-Signature` validation, as twilio-node's `validateRequest` (src/webhooks/webhooks.ts):
 * base64(HMAC-SHA1(authToken, url + Σ name+value)) with parameter names sorted, a repeated name's
 * values de-duplicated and sorted, no separators; compared in constant time; the URL tried with and
 * without its default port because Twilio's signing is inconsistent about it.
 *
 * One deliberate difference: twilio-node re-normalises every candidate with `new URL()`, which
 * drops a default port again, so its "with :443" candidate is in fact the same string as the
 * other. Here the candidates are kept literally (the URL as given, its WHATWG form, the form with
 * the scheme's default port written out, the form without a port), which is what older
 * twilio-node releases did and what the comment in twilio-node says it means to do.
 *
 * Media Streams: the signature on the WebSocket upgrade covers the `wss://` URL from the TwiML and
 * no parameters (/work/shared/protocols.md §2). Build that URL with {@link expectedStreamUrl}, for
 * the TwiML and for the check alike, so the two cannot disagree.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Form parameters: a Record (string or list of strings), a name → values Map, or URLSearchParams. */
export type SignatureParams =
  | Readonly<Record<string, string | readonly string[]>>
  | ReadonlyMap<string, readonly string[]>
  | URLSearchParams;

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'https:': '443', 'wss:': '443', 'http:': '80', 'ws:': '80' };

/** Only a plausible Host header is used to build a URL (it is attacker-controlled input). */
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

function paramsAsLists(params: SignatureParams | undefined): Map<string, string[]> {
  const lists = new Map<string, string[]>();
  if (params === undefined) return lists;
  if (params instanceof URLSearchParams || params instanceof Map) {
    const entries: Iterable<[string, string | readonly string[]]> = params.entries();
    for (const [name, value] of entries) {
      const list = lists.get(name) ?? [];
      if (typeof value === 'string') list.push(value);
      else list.push(...value);
      lists.set(name, list);
    }
    return lists;
  }
  for (const [name, value] of Object.entries(params as Readonly<Record<string, string | readonly string[]>>)) {
    lists.set(name, typeof value === 'string' ? [value] : [...value]);
  }
  return lists;
}

/** The exact string Twilio signs: `url`, then name+value per parameter in sorted name order. */
export function signedString(url: string, params?: SignatureParams): string {
  const lists = paramsAsLists(params);
  let data = url;
  // Default sort (UTF-16 code units) as twilio-node; identical to byte order for ASCII names.
  for (const name of [...lists.keys()].sort()) {
    const values = lists.get(name) ?? [];
    const ordered = values.length === 1 ? values : [...new Set(values)].sort();
    for (const value of ordered) data += name + value;
  }
  return data;
}

/** The signature Twilio would send for exactly this URL string (no normalisation) and parameters. */
export function computeSignature(authToken: string, url: string, params?: SignatureParams): string {
  return createHmac('sha1', authToken).update(Buffer.from(signedString(url, params), 'utf8')).digest('base64');
}

/**
 * The URL strings a signature may have been computed over: as given, WHATWG-normalised, with the
 * scheme's default port written out, and without any port. De-duplicated, `url` first.
 */
export function signatureUrlCandidates(url: string): string[] {
  const candidates = new Set<string>([url]);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [...candidates];
  }
  candidates.add(parsed.toString());
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (parsed.port === '' && defaultPort !== undefined) {
    const userinfo = parsed.username || parsed.password ? `${parsed.username}${parsed.password ? ':' + parsed.password : ''}@` : '';
    candidates.add(`${parsed.protocol}//${userinfo}${parsed.host}:${defaultPort}${parsed.pathname}${parsed.search}${parsed.hash}`);
  }
  if (parsed.port !== '') {
    parsed.port = '';
    candidates.add(parsed.toString());
  }
  return [...candidates];
}

/**
 * True when `signature` (the X-Twilio-Signature header) is Twilio's signature of `url` and
 * `params` under `authToken`. Missing header or empty token: false. Every candidate URL is compared
 * (no early exit), each in constant time.
 */
export function validateSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params?: SignatureParams,
): boolean {
  if (authToken === '' || signature === undefined || signature === '') return false;
  const received = Buffer.from(signature, 'utf8');
  let valid = false;
  for (const candidate of signatureUrlCandidates(url)) {
    const expected = Buffer.from(computeSignature(authToken, candidate, params), 'utf8');
    // Lengths are public (a SHA-1 signature is always 28 characters); contents are compared in constant time.
    const match = expected.length === received.length && timingSafeEqual(expected, received);
    valid = valid || match;
  }
  return valid;
}

/** Validates the signature of a Media Streams WebSocket upgrade: the stream URL, no parameters. */
export function validateStreamSignature(authToken: string, signature: string | undefined, streamUrl: string): boolean {
  return validateSignature(authToken, signature, streamUrl);
}

/**
 * The WebSocket URL Twilio is told to connect to (and signs), for `path` (e.g. `/twilio/media`):
 * from `publicUrl` when configured (`https://host[/prefix]` → `wss://host[/prefix]<path>`; `http`
 * maps to `ws`, which Twilio refuses, useful only locally), else `wss://<Host header><path>`.
 * Returns undefined when neither gives a usable host (a malformed Host header is refused, not
 * echoed into TwiML). Behind TLS termination the server itself sees http; configure `publicUrl`.
 */
export function expectedStreamUrl(publicUrl: string | undefined, hostHeader: string | undefined, path: string): string | undefined {
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) return undefined;
  if (publicUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(publicUrl);
    } catch {
      return undefined;
    }
    const scheme = parsed.protocol === 'https:' || parsed.protocol === 'wss:' ? 'wss:' : parsed.protocol === 'http:' || parsed.protocol === 'ws:' ? 'ws:' : undefined;
    if (scheme === undefined || parsed.host === '') return undefined;
    const prefix = parsed.pathname.replace(/\/+$/, '');
    return `${scheme}//${parsed.host}${prefix}${path}`;
  }
  if (hostHeader === undefined || !HOST_HEADER.test(hostHeader)) return undefined;
  return `wss://${hostHeader}${path}`;
}
