/**
 * Field readers for the model codecs: each throws `BadField(path)` on a wrong type, and the codec
 * turns that into a coded error result (codecs never throw to their caller). Base64 audio is
 * validated strictly (src/audio/base64.ts): a corrupt payload is an error, not shorter audio.
 */
import { base64DecodedLength, decodeBase64Into } from '../../audio/base64.js';
import { vwError, type VoicewireError } from '../../errors.js';

export type Json = Record<string, unknown>;

/** Thrown only inside the codecs and turned into a result. */
export class BadField extends Error {
  constructor(
    readonly path: string,
    readonly error: VoicewireError = vwError('VW_ERR_BAD_FIELD', path),
  ) {
    super(path);
  }
}

export type ParseResult<E> =
  | { readonly ok: true; readonly events: readonly E[] }
  | { readonly ok: false; readonly error: VoicewireError; readonly field?: string };

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text → object, or a coded error result (VW_ERR_BAD_JSON) for anything else. */
export function parseObject(text: string, maxChars: number): { ok: true; value: Json } | { ok: false; error: VoicewireError } {
  if (text.length > maxChars) return { ok: false, error: vwError('VW_ERR_MESSAGE_TOO_LARGE', text.length, maxChars) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: vwError('VW_ERR_BAD_JSON', err instanceof Error ? err.message : 'parse error') };
  }
  if (!isObject(value)) return { ok: false, error: vwError('VW_ERR_BAD_JSON', 'not an object') };
  return { ok: true, value };
}

export function optionalObject(parent: Json, key: string, path: string): Json | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new BadField(path);
  return value;
}

export function requiredObject(parent: Json, key: string, path: string): Json {
  const value = optionalObject(parent, key, path);
  if (value === undefined) throw new BadField(path);
  return value;
}

export function optionalString(parent: Json, key: string, path: string, maxChars = 1 << 20): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxChars) throw new BadField(path);
  return value;
}

export function requiredString(parent: Json, key: string, path: string, maxChars = 1 << 20): string {
  const value = optionalString(parent, key, path, maxChars);
  if (value === undefined) throw new BadField(path);
  return value;
}

export function optionalBoolean(parent: Json, key: string, path: string): boolean | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new BadField(path);
  return value;
}

export function optionalNumber(parent: Json, key: string, path: string): number | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new BadField(path);
  return value;
}

export function requiredInteger(parent: Json, key: string, path: string): number {
  const value = optionalNumber(parent, key, path);
  if (value === undefined || !Number.isSafeInteger(value) || value < 0) throw new BadField(path);
  return value;
}

export function optionalArray(parent: Json, key: string, path: string, maxItems = 1024): unknown[] | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > maxItems) throw new BadField(path);
  return value as unknown[];
}

/** Strict base64 → fresh bytes; a bad payload is VW_ERR_BAD_BASE64 at `path`. */
export function base64At(parent: Json, key: string, path: string, maxBytes: number): Uint8Array {
  const text = requiredString(parent, key, path, Math.ceil(maxBytes / 3) * 4);
  const length = base64DecodedLength(text);
  if (length < 0) throw new BadField(path, vwError('VW_ERR_BAD_BASE64'));
  const out = new Uint8Array(length);
  if (decodeBase64Into(text, out) !== length) throw new BadField(path, vwError('VW_ERR_BAD_BASE64'));
  return out;
}

/** Runs a codec body, turning BadField into a result and anything else into VW_ERR_BAD_FIELD. */
export function guard<E>(body: () => E[]): ParseResult<E> {
  try {
    return { ok: true, events: body() };
  } catch (err) {
    if (err instanceof BadField) return { ok: false, error: err.error, field: err.path };
    return { ok: false, error: vwError('VW_ERR_BAD_FIELD', err instanceof Error ? err.message : String(err)) };
  }
}
