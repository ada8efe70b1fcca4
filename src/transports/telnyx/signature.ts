/**
 * Telnyx webhook signatures: Ed25519 over `<telnyx-timestamp>|<raw body>`, base64 in the
 * `telnyx-signature-ed25519` header, checked with the account's public key (Mission Control →
 * Keys & Credentials → Public Key: base64 of the raw 32-byte key). Source:
 * https://developers.telnyx.com/api-reference/callbacks/texml-stream (headers telnyx-timestamp,
 * telnyx-signature-ed25519, "Ed25519 signature of timestamp|payload").
 *
 * A timestamp further than `toleranceS` from now is refused, so a captured request cannot be
 * replayed later (the Standard Webhooks default of 5 minutes).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export const TELNYX_SIGNATURE_HEADER = 'telnyx-signature-ed25519';
export const TELNYX_TIMESTAMP_HEADER = 'telnyx-timestamp';
export const DEFAULT_TOLERANCE_S = 300;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The Ed25519 key from its base64 raw form, or undefined when it is not 32 bytes of base64. */
export function telnyxPublicKey(base64: string): KeyObject | undefined {
  const text = base64.trim();
  if (!BASE64.test(text)) return undefined;
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

export interface TelnyxSignatureCheck {
  readonly key: KeyObject;
  readonly signature: string | undefined;
  readonly timestamp: string | undefined;
  readonly rawBody: string;
  /** Now, in seconds since the epoch. */
  readonly nowS: number;
  readonly toleranceS?: number;
}

/** True when the signature is Telnyx's over `timestamp|rawBody` and the timestamp is recent. */
export function verifyTelnyxSignature(check: TelnyxSignatureCheck): boolean {
  const { signature, timestamp } = check;
  if (signature === undefined || timestamp === undefined || !/^[0-9]{1,12}$/.test(timestamp) || !BASE64.test(signature)) return false;
  if (Math.abs(check.nowS - Number(timestamp)) > (check.toleranceS ?? DEFAULT_TOLERANCE_S)) return false;
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64) return false;
  return verify(null, Buffer.from(`${timestamp}|${check.rawBody}`, 'utf8'), check.key, bytes);
}
