/**
 * Size checks shared by the flow primitives (house style 5, after WHATWG's queue-with-sizes): a
 * duration that is NaN, negative or infinite would poison a running total forever, so it is refused
 * at the door with a coded error instead of being clamped.
 */
import { vwError } from '../errors.js';

/** Throws VW_ERR_INVALID_SIZE unless `ms` is a finite number ≥ 0. */
export function assertSize(ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw vwError('VW_ERR_INVALID_SIZE', String(ms));
}

/** Like {@link assertSize} for a position on a timeline (same rule, named for the reader). */
export const assertPosition = assertSize;
