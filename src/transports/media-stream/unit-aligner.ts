/**
 * Cuts a stream of byte chunks into whole multiples of a unit (Exotel: 320 bytes), holding the
 * remainder — always less than one unit — until more bytes arrive, a flush pads it, or a drop
 * discards it. Pure bookkeeping, no I/O; the buffer it holds is one unit long, made the first
 * time a remainder is held (never, for 1-byte units: a μ-law call holds no buffer).
 */
export class UnitAligner {
  private held: Uint8Array | undefined;
  private heldBytes = 0;

  constructor(readonly unit: number) {
    if (!Number.isInteger(unit) || unit < 1) throw new RangeError(`unit must be a whole number ≥ 1 (got ${unit})`);
  }

  /** Bytes held back (< unit). */
  get pending(): number {
    return this.heldBytes;
  }

  /**
   * Passes every whole-unit run of (held bytes + `chunk`) to `emit`, in order, and keeps the
   * rest. `emit` gets views that are only valid during the call.
   */
  push(chunk: Uint8Array, emit: (bytes: Uint8Array) => void): void {
    // The common case (nothing held, whole units: always for 1-byte units): no views to make.
    if (this.heldBytes === 0 && chunk.length % this.unit === 0) {
      if (chunk.length > 0) emit(chunk);
      return;
    }
    let bytes = chunk;
    const held = (this.held ??= new Uint8Array(this.unit));
    if (this.heldBytes > 0) {
      const take = Math.min(this.unit - this.heldBytes, bytes.length);
      held.set(bytes.subarray(0, take), this.heldBytes);
      this.heldBytes += take;
      bytes = bytes.subarray(take);
      if (this.heldBytes < this.unit) return;
      this.heldBytes = 0;
      emit(held);
    }
    const whole = bytes.length - (bytes.length % this.unit);
    if (whole > 0) emit(bytes.subarray(0, whole));
    held.set(bytes.subarray(whole), 0);
    this.heldBytes = bytes.length - whole;
  }

  /** The held bytes padded with `fill` to one unit (and how many were real), or undefined when none are held. */
  flush(fill: number): { readonly bytes: Uint8Array; readonly real: number } | undefined {
    if (this.heldBytes === 0 || this.held === undefined) return undefined;
    const real = this.heldBytes;
    this.heldBytes = 0;
    const bytes = this.held.slice();
    bytes.fill(fill, real);
    return { bytes, real };
  }

  /** Forgets the held bytes (a clear: they belong to an interrupted epoch). */
  drop(): void {
    this.heldBytes = 0;
  }
}
