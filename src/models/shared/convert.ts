/**
 * One direction of audio conversion between the caller's format and the model wire format:
 * decode (μ-law → PCM16), resample, encode (PCM16 → μ-law). Same format in and out is a
 * passthrough that returns its input untouched (μ-law callers on a `pcmu` wire: byte-exact).
 *
 * Stateful on purpose: the resampler keeps history across chunks, so a stream converted in pieces
 * sounds like the stream converted whole. Scratch buffers are reused; their size is bounded by the
 * largest chunk seen, itself bounded by the socket's maxPayload.
 */
import { endianness } from 'node:os';
import type { AudioFormat } from '../../audio/format.js';
import { isSameFormat } from '../../audio/format.js';
import { decodeMulaw, encodeMulaw } from '../../audio/mulaw.js';
import { StreamingResampler } from '../../audio/resampler.js';
import { vwError } from '../../errors.js';

// PCM16 on every wire here is little-endian and is viewed through Int16Array, which uses the
// host's byte order: refuse to run on a big-endian host rather than produce noise.
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The scratch of a converter that has not converted anything yet: shared and never written (a
 * scratch is replaced before use when shorter than the chunk), so a passthrough converter, and
 * every converter until its first chunk, holds no typed arrays of its own.
 */
const NO_SAMPLES = new Int16Array(0);
const NO_BYTES = new Uint8Array(0);

export class FormatConverter {
  readonly from: AudioFormat;
  readonly to: AudioFormat;
  readonly passthrough: boolean;
  private readonly resampler: StreamingResampler | undefined;
  private samples = NO_SAMPLES;
  private encoded = NO_BYTES;
  /** A PCM16 chunk of odd length leaves its last byte here for the next chunk. */
  private carry = -1;

  constructor(from: AudioFormat, to: AudioFormat) {
    if (!LITTLE_ENDIAN) throw vwError('VW_ERR_CONFIG', 'PCM16 conversion needs a little-endian host');
    this.from = from;
    this.to = to;
    this.passthrough = isSameFormat(from, to);
    this.resampler = from.sampleRate === to.sampleRate ? undefined : new StreamingResampler(from.sampleRate, to.sampleRate);
  }

  /**
   * Converts one chunk. The result is a view into a buffer reused by the next call (or, for a
   * passthrough, the input itself): copy it to keep it.
   */
  convert(input: Uint8Array): Uint8Array {
    if (this.passthrough) return input;
    const decoded = this.decode(input);
    const resampled = this.resampler === undefined ? decoded : this.resampler.process(decoded);
    return this.encode(resampled);
  }

  /**
   * Decodes one chunk to PCM16 samples at the source rate, without resampling or encoding (for a
   * detector that listens to the caller's audio). A view into a buffer reused by the next call.
   */
  toSamples(input: Uint8Array): Int16Array {
    return this.decode(input);
  }

  /** Forget resampler history and any half sample (a new response, a new connection). */
  reset(): void {
    this.resampler?.reset();
    this.carry = -1;
  }

  private decode(input: Uint8Array): Int16Array {
    if (this.from.encoding === 'pcmu') {
      const out = this.scratchSamples(input.length);
      const n = decodeMulaw(input, out);
      return out.subarray(0, n);
    }
    return this.pcm16Samples(input);
  }

  /** PCM16 LE bytes → samples, copying only when alignment or an odd carry byte requires it. */
  private pcm16Samples(input: Uint8Array): Int16Array {
    const hasCarry = this.carry >= 0;
    const total = input.length + (hasCarry ? 1 : 0);
    const count = total >> 1;
    if (!hasCarry && input.byteOffset % 2 === 0 && input.length % 2 === 0) {
      return new Int16Array(input.buffer, input.byteOffset, count);
    }
    const out = this.scratchSamples(count);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, count * 2);
    if (hasCarry && count > 0) {
      bytes[0] = this.carry;
      bytes.set(input.subarray(0, count * 2 - 1), 1);
    } else if (!hasCarry) {
      bytes.set(input.subarray(0, count * 2));
    }
    // An odd total leaves the last byte for the next chunk (an empty input keeps the old carry).
    if (total % 2 === 0) this.carry = -1;
    else if (input.length > 0) this.carry = input[input.length - 1] ?? -1;
    return out.subarray(0, count);
  }

  private encode(samples: Int16Array): Uint8Array {
    if (this.to.encoding === 'pcm16') {
      return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    }
    if (this.encoded.length < samples.length) this.encoded = new Uint8Array(samples.length);
    const n = encodeMulaw(samples, this.encoded);
    return this.encoded.subarray(0, n);
  }

  private scratchSamples(count: number): Int16Array {
    if (this.samples.length < count) this.samples = new Int16Array(count);
    return this.samples;
  }
}
