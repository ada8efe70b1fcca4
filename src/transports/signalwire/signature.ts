/**
 * SignalWire webhook signatures on the Compatibility (cXML) surface: the Twilio scheme —
 * base64(HMAC-SHA1(signing key, URL + sorted name+value pairs)) — keyed with the project's Signing
 * Key, in `X-SignalWire-Signature` (SignalWire also sends `X-Twilio-Signature` there). Sources:
 * https://developer.signalwire.com/guides/webhook-security and signalwire/signalwire-typescript
 * `src/WebhookValidator.ts` ("Scheme B"), which also tries the URL with and without the default
 * port, as our Twilio validator does. Scheme A (hex HMAC-SHA1 over URL + raw body) is what
 * SignalWire uses for JSON (RELAY/SWML) webhooks; it is accepted too, so a JSON callback pointed
 * here is not refused for its format.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { signatureUrlCandidates, validateSignature, type SignatureParams } from '../twilio/signature.js';

export const SIGNALWIRE_SIGNATURE_HEADER = 'x-signalwire-signature';
export const SIGNALWIRE_COMPAT_SIGNATURE_HEADER = 'x-twilio-signature';

/** True when `signature` is SignalWire's over `url` and the form `params` (or, scheme A, the raw body). */
export function validateSignalWireSignature(signingKey: string, signature: string | undefined, url: string, params: SignatureParams, rawBody: string): boolean {
  if (signingKey === '' || signature === undefined || signature === '') return false;
  if (validateSignature(signingKey, signature, url, params)) return true;
  const received = Buffer.from(signature, 'utf8');
  let valid = false;
  for (const candidate of signatureUrlCandidates(url)) {
    const expected = Buffer.from(createHmac('sha1', signingKey).update(candidate + rawBody, 'utf8').digest('hex'), 'utf8');
    valid = (expected.length === received.length && timingSafeEqual(expected, received)) || valid;
  }
  return valid;
}
