/**
 * Cuts outbound audio into the fixed-size frames Vonage plays (20 ms: 640 bytes at 16 kHz, 320 at
 * 8 kHz), with no I/O. Audio arrives in pieces of any length; whole frames go out at once and the
 * remainder (< one frame) waits for the next piece of the same epoch. At a sentence end, or before
 * a newer epoch, the remainder goes out padded with silence so the marker after it covers it; on a
 * clear it is dropped. The held remainder is at most one frame, so the caller's buffer never holds
 * more than the credit window + one frame (the padding).
 */

export class Framer {
  private readonly pending: Uint8Array;
  private pendingLength = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isSafeInteger(frameBytes) || frameBytes < 2 || frameBytes % 2 !== 0) throw new RangeError(`frameBytes must be an even number ≥ 2 (got ${frameBytes})`);
    this.pending = new Uint8Array(frameBytes);
  }

  /** Bytes held back (less than one frame). */
  get held(): number {
    return this.pendingLength;
  }

  /**
   * Appends `bytes` and calls `emit(frame)` for every whole frame now available (the frame is a
   * fresh buffer the caller may keep). `emit` returning false stops the cut (the socket is gone);
   * the rest is dropped.
   */
  push(bytes: Uint8Array, emit: (frame: Uint8Array) => boolean): void {
    let offset = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(bytes.length, this.frameBytes - this.pendingLength);
      this.pending.set(bytes.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      offset = take;
      if (this.pendingLength < this.frameBytes) return;
      this.pendingLength = 0;
      if (!emit(this.pending.slice())) return;
    }
    while (bytes.length - offset >= this.frameBytes) {
      if (!emit(bytes.slice(offset, offset + this.frameBytes))) return;
      offset += this.frameBytes;
    }
    this.pending.set(bytes.subarray(offset), 0);
    this.pendingLength = bytes.length - offset;
  }

  /** The held remainder padded with silence to a whole frame, or undefined when nothing is held. */
  flush(): { frame: Uint8Array; audioBytes: number } | undefined {
    if (this.pendingLength === 0) return undefined;
    const frame = new Uint8Array(this.frameBytes);
    frame.set(this.pending.subarray(0, this.pendingLength));
    const audioBytes = this.pendingLength;
    this.pendingLength = 0;
    return { frame, audioBytes };
  }

  /** Forgets the remainder (a clear). */
  drop(): void {
    this.pendingLength = 0;
  }
}
