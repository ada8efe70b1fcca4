/**
 * TwiML answering POST /twilio/voice: a bidirectional Media Stream,
 * `<Response><Connect><Stream url="wss://…"><Parameter …/></Stream></Connect></Response>`.
 *
 * Call data travels as `<Parameter>`s (they arrive in `start.customParameters`), never in the
 * stream URL's query string: Twilio documents a query string as a cause of 31920 and some setups
 * saw it stripped (/work/shared/protocols.md §1). Parameters are bounded in count and length
 * because the webhook's fields are caller-influenced (CallerName, forwarded numbers).
 */
import { vwError } from '../../errors.js';
import type { SignatureParams } from './signature.js';

/** Content-Type of the reply (a wrong type is a cause of Twilio error 11200). */
export const TWIML_CONTENT_TYPE = 'text/xml';

/** Webhook fields passed on to the stream by default. */
export const DEFAULT_CALL_PARAMETERS = ['CallSid', 'AccountSid', 'From', 'To', 'Direction', 'CallerName', 'ForwardedFrom'] as const;

export const DEFAULT_MAX_PARAMETERS = 16;
/** Twilio caps name + value near 500 characters (unconfirmed); stay well below. */
export const DEFAULT_MAX_PARAMETER_CHARS = 256;

export interface StreamTwimlOptions {
  /** Absolute `wss://` URL (or `ws://` for local tests) without query string or fragment. */
  readonly streamUrl: string;
  /** Sent as `<Parameter>`s in insertion order; extra ones past `maxParameters` are dropped. */
  readonly parameters?: Readonly<Record<string, string>>;
  readonly maxParameters?: number;
  /** Longest name + value; longer values are truncated (never inside a surrogate pair). */
  readonly maxParameterChars?: number;
  /** Optional `<Stream name>`. */
  readonly name?: string;
  /** Optional `statusCallback` URL (stream-started/stopped/error). */
  readonly statusCallback?: string;
  /** Further `<Stream>` attributes of a dialect (Telnyx TeXML: `bidirectionalMode="rtp"`). */
  readonly streamAttributes?: Readonly<Record<string, string>>;
}

/**
 * Characters XML 1.0 forbids even escaped (most C0 controls, lone surrogates, U+FFFE/U+FFFF):
 * they are removed, since a single one makes Twilio reject the whole document.
 */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for an XML attribute value in double quotes. */
export function escapeXmlAttribute(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** The first `maxChars` UTF-16 units of `text`, one fewer if that would split a surrogate pair. */
export function truncateSafely(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return '';
  const last = text.charCodeAt(maxChars - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars;
  return text.slice(0, cut);
}

function checkStreamUrl(streamUrl: string): void {
  let parsed: URL;
  try {
    parsed = new URL(streamUrl);
  } catch {
    throw vwError('VW_ERR_CONFIG', `stream URL ${JSON.stringify(streamUrl)} is not absolute`);
  }
  if (parsed.protocol !== 'wss:' && parsed.protocol !== 'ws:') {
    throw vwError('VW_ERR_CONFIG', `stream URL must use wss:// (got ${parsed.protocol})`);
  }
  if (parsed.search !== '' || parsed.hash !== '' || streamUrl.includes('?') || streamUrl.includes('#')) {
    throw vwError('VW_ERR_CONFIG', 'stream URL must not carry a query string or fragment; use <Parameter>');
  }
}

/**
 * The TwiML document for a bidirectional stream. Throws VW_ERR_CONFIG for a stream URL that is
 * not an absolute ws(s) URL or that carries a query string (a programming or configuration error).
 */
export function streamTwiml(options: StreamTwimlOptions): string {
  checkStreamUrl(options.streamUrl);
  const maxParameters = options.maxParameters ?? DEFAULT_MAX_PARAMETERS;
  const maxChars = options.maxParameterChars ?? DEFAULT_MAX_PARAMETER_CHARS;
  let attributes = `url="${escapeXmlAttribute(options.streamUrl)}"`;
  if (options.name !== undefined) attributes += ` name="${escapeXmlAttribute(truncateSafely(options.name, maxChars))}"`;
  if (options.statusCallback !== undefined) attributes += ` statusCallback="${escapeXmlAttribute(options.statusCallback)}"`;
  for (const [name, value] of Object.entries(options.streamAttributes ?? {})) {
    if (/^[A-Za-z][A-Za-z0-9]*$/.test(name)) attributes += ` ${name}="${escapeXmlAttribute(value)}"`;
  }
  let parameters = '';
  let count = 0;
  for (const [name, value] of Object.entries(options.parameters ?? {})) {
    if (count >= maxParameters) break;
    // A name that needs truncating is not a name anyone will look up: skip it rather than mangle it.
    if (name === '' || name.length > maxChars / 2) continue;
    const safeValue = truncateSafely(value, maxChars - name.length);
    parameters += `<Parameter name="${escapeXmlAttribute(name)}" value="${escapeXmlAttribute(safeValue)}"/>`;
    count++;
  }
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream ${attributes}>${parameters}</Stream></Connect></Response>`;
}

/**
 * The webhook fields in `names` that are present (first value of a repeated name), in `names`
 * order: the call data to pass on as `<Parameter>`s.
 */
export function pickCallParameters(
  form: SignatureParams,
  names: readonly string[] = DEFAULT_CALL_PARAMETERS,
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    let value: string | readonly string[] | null | undefined;
    if (form instanceof URLSearchParams) value = form.get(name);
    else if (form instanceof Map) value = (form as ReadonlyMap<string, readonly string[]>).get(name);
    else value = Object.hasOwn(form, name) ? (form as Readonly<Record<string, string | readonly string[]>>)[name] : undefined;
    const first = typeof value === 'string' ? value : value?.[0];
    if (first !== undefined && first !== null) picked[name] = first;
  }
  return picked;
}
