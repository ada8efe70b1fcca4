/**
 * G.711 μ-law, bit-exact with the ITU-T G.191 software tools (`g711.c`: `ulaw_compress` /
 * `ulaw_expand`). Both directions are table lookups built once at module load, and the array
 * functions write into caller-owned buffers, so a 20 ms frame costs no allocation.
 *
 * Encoding follows G.191, not the "Sun" `linear2ulaw` that most JavaScript codecs (alawmulaw
 * among them) copy. G.191 takes the 14 most significant bits (`sample >> 2`) and forms the
 * magnitude of a negative sample as the one's complement (`~sample`, i.e. |x| − 1), so the
 * negative decision thresholds are the positive ones mirrored around −½ LSB. The Sun variant
 * negates (|x|) and adds a bias of 132 to the full 16-bit magnitude, mirroring around 0. Both agree on
 * every positive input; on negative inputs they differ exactly where |x| + 132 is a decision
 * threshold (127 inputs, from −4 to −31612), where G.191 picks the code one step closer to zero.
 * test/audio/mulaw.test.ts pins that set.
 */

import { vwError } from '../errors.js';

/** Largest 14-bit magnitude `ulaw_compress` keeps after adding the bias (8191). */
const MAX_BIASED = 0x1fff;
/** The μ-law bias in 14-bit units (132 in 16-bit units). */
const BIAS_14 = 33;

/**
 * The G.191 encoder for one 14-bit input (`sample >> 2`, −8192..8191), written as in `g711.c`.
 * Only used to fill the table.
 */
function compress14(x14: number): number {
  // ~x on the 14-bit value equals (~x16) >> 2 of the 16-bit one: arithmetic shifts commute with ~.
  let absno = (x14 < 0 ? ~x14 : x14) + BIAS_14;
  if (absno > MAX_BIASED) absno = MAX_BIASED;
  let segno = 1;
  for (let i = absno >> 6; i !== 0; i >>= 1) segno++;
  const highNibble = 0x08 - segno;
  const lowNibble = 0x0f - ((absno >> segno) & 0x0f);
  const code = (highNibble << 4) | lowNibble;
  return x14 >= 0 ? code | 0x80 : code;
}

/** The G.191 decoder (`ulaw_expand`) for one code, in 16-bit units. */
function expand(code: number): number {
  const sign = code < 0x80 ? -1 : 1;
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const step = 4 << (exponent + 1);
  const magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * BIAS_14;
  return sign * magnitude;
}

/** Encoder table indexed by the 14-bit input as an unsigned index: `(sample >> 2) & 0x3fff`. */
const ENCODE_TABLE = new Uint8Array(1 << 14);
for (let index = 0; index < ENCODE_TABLE.length; index++) {
  const x14 = index >= 1 << 13 ? index - (1 << 14) : index;
  ENCODE_TABLE[index] = compress14(x14);
}

/** Decoder table: 256 codes → linear 16-bit samples. */
const DECODE_TABLE = new Int16Array(256);
for (let code = 0; code < 256; code++) DECODE_TABLE[code] = expand(code);

/** Linear 16-bit value of μ-law `code` (0..255; higher bits are ignored). */
export function mulawDecodeSample(code: number): number {
  return DECODE_TABLE[code & 0xff]!;
}

/**
 * μ-law code of one 16-bit `sample`. Values outside −32768..32767 are clamped; a fraction is
 * truncated toward zero first (ToInt32), then G.191 drops the two least significant bits.
 */
export function mulawEncodeSample(sample: number): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample;
  return ENCODE_TABLE[(s >> 2) & 0x3fff]!;
}

/** Decode `input` into `output` (length ≥ input.length); returns samples written. */
export function decodeMulaw(input: Uint8Array, output: Int16Array): number {
  const n = input.length;
  if (output.length < n) throw vwError('VW_ERR_BUFFER_TOO_SMALL', output.length, n);
  for (let i = 0; i < n; i++) output[i] = DECODE_TABLE[input[i]!]!;
  return n;
}

/** Encode `input` into `output` (length ≥ input.length); returns bytes written. */
export function encodeMulaw(input: Int16Array, output: Uint8Array): number {
  const n = input.length;
  if (output.length < n) throw vwError('VW_ERR_BUFFER_TOO_SMALL', output.length, n);
  for (let i = 0; i < n; i++) output[i] = ENCODE_TABLE[(input[i]! >> 2) & 0x3fff]!;
  return n;
}

/** μ-law silence: the code of 0 (`0xff`; G.191's 0x7f decodes to 0 as well). */
export const MULAW_SILENCE = 0xff;
