/**
 * A model that cannot be reached at call start is `VW_ERR_MODEL_CONNECT` (close 4012); the same
 * failure after the call was up (drop, failed reconnects) stays `VW_ERR_MODEL_UNAVAILABLE` (4010).
 * The socket layer only knows "unavailable"; the first `connect()` of every backend renames it here
 * so operators can tell a misconfigured key or URL from a model that went away mid-call.
 */
import { ERRORS, isVoicewireError, vwError } from '../../errors.js';

const UNAVAILABLE_PREFIX = ERRORS.VW_ERR_MODEL_UNAVAILABLE.message.replace('%s', '');

/** `err` as a call-start failure: VW_ERR_MODEL_UNAVAILABLE becomes VW_ERR_MODEL_CONNECT; others pass. */
export function atCallStart(err: unknown): unknown {
  if (!isVoicewireError(err, 'VW_ERR_MODEL_UNAVAILABLE')) return err;
  const detail = err.message.startsWith(UNAVAILABLE_PREFIX) ? err.message.slice(UNAVAILABLE_PREFIX.length) : err.message;
  const renamed = vwError('VW_ERR_MODEL_CONNECT', detail);
  renamed.cause = err;
  return renamed;
}
