/**
 * Field readers shared by the JSON carrier codecs (Twilio, SignalWire, Telnyx, Exotel, Plivo,
 * Vonage): each either returns the value or throws {@link BadField} naming the field's path, which
 * {@link parseJsonMessage} turns into a coded result (parsers never throw out of their module).
 */
import { base64DecodedLength, decodeBase64Into } from '../../audio/base64.js';
import { vwError, type VoicewireError } from '../../errors.js';

export type Json = Record<string, unknown>;

/** A bad or missing field at `path`; `error` overrides the default VW_ERR_BAD_FIELD. */
export class BadField extends Error {
  constructor(
    readonly path: string,
    readonly error?: VoicewireError,
  ) {
    super(path);
  }
}

/** Counters the carriers send as strings of digits (sequence numbers, chunks, timestamps). */
export const DIGITS = /^[0-9]{1,15}$/;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(parent: Json, key: string, path: string): Json {
  const value = parent[key];
  if (!isObject(value)) throw new BadField(path);
  return value;
}

export function stringAt(parent: Json, key: string, path: string, maxChars = 256): string {
  const value = parent[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxChars) throw new BadField(path);
  return value;
}

/** A string matching `pattern` (ids: a shape check keeps junk out of logs and mark names). */
export function idAt(parent: Json, key: string, path: string, pattern: RegExp): string {
  const value = parent[key];
  if (typeof value !== 'string' || !pattern.test(value)) throw new BadField(path);
  return value;
}

/** A counter sent as a string of digits; a JSON number here is a protocol violation. */
export function digitsAt(parent: Json, key: string, path: string): number {
  const value = parent[key];
  if (typeof value !== 'string' || !DIGITS.test(value)) throw new BadField(path);
  return Number(value);
}

/** Like {@link digitsAt}, but the field may be absent (undefined then). */
export function optionalDigitsAt(parent: Json, key: string, path: string): number | undefined {
  return parent[key] === undefined ? undefined : digitsAt(parent, key, path);
}

/** A list of 1–4 track names (`["inbound"]`) of at most 32 characters each. */
export function tracksAt(parent: Json, key: string, path: string): readonly string[] {
  const raw = parent[key];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 4) throw new BadField(path);
  for (const track of raw) if (typeof track !== 'string' || track.length === 0 || track.length > 32) throw new BadField(path);
  return raw as string[];
}

/**
 * A flat object of string values (custom parameters), bounded in count and size; absent is `{}`.
 * Built with fromEntries so a "__proto__" name stays a plain key.
 */
export function stringMapAt(parent: Json, key: string, path: string, maxEntries: number, maxChars: number): Readonly<Record<string, string>> {
  const raw = parent[key];
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new BadField(path);
  const entries = Object.entries(raw);
  if (entries.length > maxEntries) throw new BadField(path);
  for (const [name, value] of entries) {
    if (typeof value !== 'string' || name.length + value.length > maxChars) throw new BadField(`${path}.${name.slice(0, 64)}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * A base64 audio payload decoded into `out` (a view of it, valid until the next decode). Empty, larger
 * than `out`, or not whole samples of `sampleBytes` is VW_ERR_BAD_PAYLOAD_SIZE; bad base64 is
 * VW_ERR_BAD_BASE64.
 */
export function base64PayloadAt(parent: Json, key: string, path: string, out: Uint8Array, sampleBytes = 1): Uint8Array {
  const text = parent[key];
  if (typeof text !== 'string') throw new BadField(path);
  // Length first: it is free, and a size problem deserves its own code rather than "bad base64".
  const size = base64DecodedLength(text);
  if (size < 0) throw new BadField(path, vwError('VW_ERR_BAD_BASE64'));
  if (size === 0 || size > out.length || size % sampleBytes !== 0) throw new BadField(path, vwError('VW_ERR_BAD_PAYLOAD_SIZE', size));
  const written = decodeBase64Into(text, out);
  if (written < 0) throw new BadField(path, vwError('VW_ERR_BAD_BASE64'));
  return out.subarray(0, written);
}

/** A parsed message, or a coded error with the `event` and the field to blame when they are known (for logs). */
export type JsonParseResult<M> =
  | { readonly ok: true; readonly message: M }
  | { readonly ok: false; readonly error: VoicewireError; readonly event?: string; readonly field?: string };

/**
 * The checks every JSON carrier message gets before its fields are read: at most `maxChars`, JSON,
 * an object, a string `event` among `known`. `readEvent` then reads the fields; a {@link BadField}
 * it throws becomes the coded result (its own error, else VW_ERR_BAD_FIELD with the path).
 */
export function parseJsonMessage<M>(text: string, maxChars: number, known: ReadonlySet<string>, readEvent: (root: Json, event: string) => M): JsonParseResult<M> {
  if (text.length > maxChars) return { ok: false, error: vwError('VW_ERR_MESSAGE_TOO_LARGE', text.length, maxChars) };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: vwError('VW_ERR_BAD_JSON', detail.slice(0, 120)) };
  }
  if (!isObject(root)) return { ok: false, error: vwError('VW_ERR_BAD_JSON', 'not a JSON object') };
  const event = root['event'];
  if (typeof event !== 'string') return { ok: false, error: vwError('VW_ERR_BAD_FIELD', 'event'), field: 'event' };
  if (!known.has(event)) return { ok: false, error: vwError('VW_ERR_UNKNOWN_EVENT', JSON.stringify(event.slice(0, 64))), event: event.slice(0, 64) };
  try {
    return { ok: true, message: readEvent(root, event) };
  } catch (err) {
    if (!(err instanceof BadField)) throw err;
    return { ok: false, error: err.error ?? vwError('VW_ERR_BAD_FIELD', err.path), event, field: err.path };
  }
}
