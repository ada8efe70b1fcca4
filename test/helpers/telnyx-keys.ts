/** Test Ed25519 keys in Telnyx's shape, and signatures as Telnyx makes them. */
import { generateKeyPairSync, sign } from 'node:crypto';

/** A key pair as Telnyx hands it out: the public half as base64 of the raw 32 bytes. */
export function telnyxKeyPair(): { publicKeyBase64: string; sign(timestamp: string, body: string): string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    publicKeyBase64: der.subarray(der.length - 32).toString('base64'),
    sign: (timestamp, body) => sign(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString('base64'),
  };
}
