/**
 * base64 of audio without per-frame garbage: decoding writes into a caller-owned buffer; encoding
 * goes straight from bytes to the string (the string itself is the only allocation).
 *
 * Only the standard, padded alphabet of RFC 4648 §4 is accepted: it is what Twilio Media Streams
 * and the OpenAI Realtime API send (a 20 ms μ-law frame is 216 characters ending in "=="). Node's
 * own decoder is lenient (it skips unknown characters and stops at the first "="), so a corrupt
 * payload would silently become shorter, shifted audio; validation happens here first.
 */

/** 1 for the 64 characters of the standard alphabet, indexed by char code (< 128). */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;

const PAD = 0x3d; // '='

/**
 * A Buffer over the whole ArrayBuffer of each caller-owned Uint8Array, so decoding and encoding
 * write/read at `byteOffset` instead of wrapping each array in a new Buffer. Keyed on the
 * ArrayBuffer, not on the array: every `subarray` of one buffer (a batch, a queued piece) shares
 * the entry instead of missing and inserting a new one per call. Weak: an entry lives only as
 * long as its ArrayBuffer.
 */
const views = new WeakMap<ArrayBufferLike, Buffer>();

function wholeBufferOf(bytes: Uint8Array): Buffer {
  const backing = bytes.buffer;
  let view = views.get(backing);
  if (view === undefined) {
    view = Buffer.from(backing);
    views.set(backing, view);
  }
  return view;
}

/** Number of trailing "=" of a base64 string whose length is a multiple of 4 (0, 1 or 2; 3 is invalid). */
function paddingOf(text: string, length: number): number {
  if (length === 0 || text.charCodeAt(length - 1) !== PAD) return 0;
  if (text.charCodeAt(length - 2) !== PAD) return 1;
  return text.charCodeAt(length - 3) === PAD ? 3 : 2;
}

/**
 * Exact decoded length of a base64 string (without decoding), or -1 when the length is impossible
 * (not a multiple of 4, or more than two "=" of padding). Does not check the alphabet.
 */
export function base64DecodedLength(text: string): number {
  const length = text.length;
  if (length % 4 !== 0) return -1;
  const padding = paddingOf(text, length);
  if (padding > 2) return -1;
  return (length / 4) * 3 - padding;
}

/**
 * True when `text` is canonical-alphabet, padded base64: length a multiple of 4, every character
 * before the padding in the alphabet, at most two "=" and only at the end. Bits left over in the
 * last character before the padding are accepted (RFC 4648 §3.5 lets decoders ignore them).
 */
export function isValidBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  const padding = paddingOf(text, length);
  if (padding > 2) return false;
  const end = length - padding;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || ALPHABET[c] === 0) return false;
  }
  return true;
}

/**
 * Decode base64 `text` into `out`; returns bytes written, or -1 if `text` is not valid base64 or
 * does not fit. Nothing is written when -1 is returned.
 */
export function decodeBase64Into(text: string, out: Uint8Array): number {
  const decoded = base64DecodedLength(text);
  if (decoded < 0 || decoded > out.length || !isValidBase64(text)) return -1;
  if (decoded === 0) return 0;
  return writeBase64(text, out, decoded);
}

/**
 * Decodes `text`, already known to be canonical base64 (alphabet, padding, length: e.g. matched
 * by an anchored pattern and measured with {@link base64DecodedLength}) whose decoded length is
 * `decoded` (≤ `out.length`), into `out`; returns `decoded`, or -1 if Node's decoder disagrees.
 * Skips the alphabet scan of {@link decodeBase64Into}: callers must have checked the characters.
 */
export function decodeCheckedBase64Into(text: string, out: Uint8Array, decoded: number): number {
  if (decoded < 0 || decoded > out.length) return -1;
  if (decoded === 0) return 0;
  return writeBase64(text, out, decoded);
}

function writeBase64(text: string, out: Uint8Array, decoded: number): number {
  const written = Buffer.isBuffer(out) ? out.write(text, 0, decoded, 'base64') : wholeBufferOf(out).write(text, out.byteOffset, decoded, 'base64');
  // Cannot differ after validation; kept as a guard against a future change in Node's decoder.
  return written === decoded ? written : -1;
}

/** base64 value (0–63) of each byte of the standard alphabet; 0xff for every other byte (non-ASCII included). */
const SEXTET = new Uint8Array(256).fill(0xff);
for (let i = 0; i < 64; i++) SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/**
 * Decodes the base64 text held as bytes (ASCII) in `bytes[start, end)` into `out`, validating it
 * as {@link decodeBase64Into} does (alphabet, length a multiple of 4, at most two "=" and only at
 * the end; leftover bits ignored), with no string made: for text still in a socket's buffer.
 * Returns the bytes written, or -1 when it is not valid base64 or does not fit; on -1, `out` may
 * have been partly written.
 */
export function decodeBase64BytesInto(bytes: Uint8Array, start: number, end: number, out: Uint8Array): number {
  const length = end - start;
  if (length === 0) return 0;
  if (length < 0 || length % 4 !== 0) return -1;
  const padding = bytes[end - 1] !== PAD ? 0 : bytes[end - 2] !== PAD ? 1 : 2;
  const size = (length / 4) * 3 - padding;
  if (size > out.length) return -1;
  // Every whole quad but the last, then the last with its padding.
  const lastQuad = end - 4;
  let o = 0;
  for (let i = start; i < lastQuad; i += 4) {
    const a = SEXTET[bytes[i]!]!;
    const b = SEXTET[bytes[i + 1]!]!;
    const c = SEXTET[bytes[i + 2]!]!;
    const d = SEXTET[bytes[i + 3]!]!;
    if ((a | b | c | d) > 63) return -1;
    out[o] = (a << 2) | (b >> 4);
    out[o + 1] = ((b & 15) << 4) | (c >> 2);
    out[o + 2] = ((c & 3) << 6) | d;
    o += 3;
  }
  const a = SEXTET[bytes[lastQuad]!]!;
  // A third "=" (before the two of padding 2) lands on `b` as a bad sextet, as it should.
  const b = SEXTET[bytes[lastQuad + 1]!]!;
  const c = padding === 2 ? 0 : SEXTET[bytes[lastQuad + 2]!]!;
  const d = padding >= 1 ? 0 : SEXTET[bytes[lastQuad + 3]!]!;
  if ((a | b | c | d) > 63) return -1;
  out[o] = (a << 2) | (b >> 4);
  if (padding < 2) out[o + 1] = ((b & 15) << 4) | (c >> 2);
  if (padding < 1) out[o + 2] = ((c & 3) << 6) | d;
  return size;
}

/** Encode `bytes[start, end)` to base64 with no intermediate copy. */
export function encodeBase64(bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  if (Buffer.isBuffer(bytes)) return bytes.toString('base64', start, end);
  const offset = bytes.byteOffset;
  return wholeBufferOf(bytes).toString('base64', offset + start, offset + end);
}
