/**
 * Byte readers shared by the Twilio fast paths (media-fast-path.ts, mark-fast-path.ts), which read
 * a WebSocket text frame's UTF-8 bytes in one exact compact layout instead of decoding a string
 * and calling JSON.parse. Every reader accepts only plain ASCII that JSON reads as itself (no
 * escapes), so a value read here is the value the full parser would return.
 */

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Full parser's bound on counters sent as digit strings (json-fields.ts DIGITS: 1–15 digits). */
const MAX_DIGITS = 15;

/** `text` (ASCII) as bytes, for the fixed parts of a layout. */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** True when `bytes[at, at + part.length)` is `part`. */
export function matchesAt(bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  if (at + part.length > bytes.length) return false;
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
  return true;
}

/** End of the 1–15 digits at `at` (the closing quote must follow: checked by the next part), or -1. */
export function digitsEnd(bytes: Uint8Array, at: number): number {
  const limit = Math.min(bytes.length, at + MAX_DIGITS + 1);
  let i = at;
  while (i < limit && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) i++;
  return i === at || i - at > MAX_DIGITS ? -1 : i;
}

/** The number of the digits `bytes[start, end)` (≤ 15 digits: exact in a double). */
export function digitsValue(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (bytes[i]! - 0x30);
  return value;
}

/** `bytes[start, end)`, all ASCII, as a string (ws hands frames over as Buffers: no view is made for them). */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  if (bytes instanceof Buffer) return bytes.toString('latin1', start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** True when `bytes[start, end)` spells `text` (one byte per character). */
export function spells(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * True for a byte that a JSON string holds as itself: printable ASCII but the quote and the
 * backslash (control characters must be escaped, and bytes ≥ 0x80 are UTF-8 sequences).
 */
export function isPlainByte(b: number): boolean {
  return b >= 0x20 && b <= 0x7e && b !== QUOTE && b !== BACKSLASH;
}

/** True when every byte of `bytes[start, end)` is plain ({@link isPlainByte}). */
export function allPlain(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isPlainByte(bytes[i]!)) return false;
  return true;
}
