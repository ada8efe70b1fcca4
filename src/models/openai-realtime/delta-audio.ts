/**
 * Model audio deltas from base64 on the wire to caller-format bytes the session may keep.
 *
 * Two ways in, one result: the full parser's delta (a base64 string, validated strictly here) and
 * the fast path's (delta-fast-path.ts), already decoded into `target` before the response tracker
 * decided about it. With no conversion (μ-law in and out) the delta is decoded once, straight
 * into the buffer that travels on; with one, into a reused scratch that the converter reads, and
 * the converter's result (a reused view) is copied out.
 */
import { base64DecodedLength, decodeBase64Into } from '../../audio/base64.js';
import type { FormatConverter } from '../shared/convert.js';
import type { DeltaTarget } from './delta-fast-path.js';

/** The scratch before the first converted delta: shared, never written (replaced when too short). */
const NO_SCRATCH = new Uint8Array(0);

export class DeltaAudio {
  private scratch = NO_SCRATCH;
  /** Where the fast path decodes a delta of `length` bytes (see `toCallerFormat`). */
  readonly target: DeltaTarget = (length) => this.targetOf(length);

  constructor(private readonly outbound: FormatConverter) {}

  /** A base64 delta (not yet validated) as caller-format bytes; undefined when it is not valid base64. */
  decode(base64: string): Uint8Array | undefined {
    const length = base64DecodedLength(base64);
    if (length < 0) return undefined;
    const out = this.targetOf(length);
    if (decodeBase64Into(base64, out) !== length) return undefined;
    return this.toCallerFormat(out.length === length ? out : out.subarray(0, length));
  }

  /** Wire bytes decoded into `target` as caller-format bytes the session may keep. */
  toCallerFormat(wire: Uint8Array): Uint8Array {
    if (this.outbound.passthrough) return wire;
    // The converter's result is a reused view; the session keeps audio, so copy it out.
    return this.outbound.convert(wire).slice();
  }

  /**
   * With no conversion, a fresh Buffer (not pooled: the session keeps it; a Buffer, so encoding it
   * for the caller needs no wrapper); otherwise the scratch the converter reads.
   */
  private targetOf(length: number): Uint8Array {
    if (this.outbound.passthrough) return Buffer.allocUnsafeSlow(length);
    if (this.scratch.length < length) this.scratch = new Uint8Array(length);
    return this.scratch;
  }
}
