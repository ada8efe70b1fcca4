/**
 * Field readers shared by the JSON media-stream codecs (Twilio, SignalWire, Telnyx, Exotel):
 * each either returns the value or throws {@link BadField} naming the field's path, which the
 * codec turns into a coded result (parsers never throw out of their module).
 */
import type { VoicewireError } from '../../errors.js';

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
