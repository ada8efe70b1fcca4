/**
 * Cuts a stream of byte chunks into whole multiples of a unit (Exotel: 320 bytes), holding the
 * remainder — always less than one unit — until more bytes arrive, a flush pads it, or a drop
 * discards it. Pure bookkeeping, no I/O; the buffer it holds is one unit long.
 */
export class UnitAligner {
  private readonly held: Uint8Array;
  private heldBytes = 0;

  constructor(readonly unit: number) {
    if (!Number.isInteger(unit) || unit < 1) throw new RangeError(`unit must be a whole number ≥ 1 (got ${unit})`);
    this.held = new Uint8Array(unit);
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
    if (this.heldBytes > 0) {
      const take = Math.min(this.unit - this.heldBytes, bytes.length);
      this.held.set(bytes.subarray(0, take), this.heldBytes);
      this.heldBytes += take;
      bytes = bytes.subarray(take);
      if (this.heldBytes < this.unit) return;
      this.heldBytes = 0;
      emit(this.held);
    }
    const whole = bytes.length - (bytes.length % this.unit);
    if (whole > 0) emit(bytes.subarray(0, whole));
    this.held.set(bytes.subarray(whole), 0);
    this.heldBytes = bytes.length - whole;
  }

  /** The held bytes padded with `fill` to one unit (and how many were real), or undefined when none are held. */
  flush(fill: number): { readonly bytes: Uint8Array; readonly real: number } | undefined {
    if (this.heldBytes === 0) return undefined;
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
