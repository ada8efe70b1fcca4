/**
 * How the fake Vonage caller reads a server → Vonage message, as strictly as Vonage documents it
 * (https://developer.vonage.com/en/voice/voice-api/concepts/websockets): binary messages are L16
 * audio in 20 ms frames of exactly the stream's frame size (640 bytes at 16 kHz, 320 at 8 kHz);
 * text messages are `{"action":"notify","payload":{…}}` or `{"action":"clear"}`. Anything else is a
 * violation and the fake drops it. Shares no code with the gateway's codec.
 */
import { isObject } from './twilio-wire.js';

export type VonageServerMessage =
  | { readonly kind: 'audio'; readonly bytes: Uint8Array }
  | { readonly kind: 'notify'; readonly payload: Record<string, unknown> }
  | { readonly kind: 'clear' }
  | { readonly kind: 'violation'; readonly event: string; readonly violation: string; readonly detail: string };

export function readVonageBinary(bytes: Uint8Array, frameBytes: number): VonageServerMessage {
  if (bytes.length !== frameBytes) return { kind: 'violation', event: 'audio', violation: 'bad-frame-size', detail: `${bytes.length} bytes, expected ${frameBytes}` };
  return { kind: 'audio', bytes };
}

export function readVonageText(text: string): VonageServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'violation', event: 'invalid', violation: 'bad-json', detail: text.slice(0, 80) };
  }
  if (!isObject(msg) || typeof msg['action'] !== 'string') return { kind: 'violation', event: 'invalid', violation: 'no-action', detail: text.slice(0, 80) };
  const action = msg['action'];
  const keys = Object.keys(msg).sort().join(',');
  if (action === 'notify') {
    const payload = msg['payload'];
    if (keys !== 'action,payload' || !isObject(payload)) return { kind: 'violation', event: action, violation: 'bad-fields', detail: text.slice(0, 120) };
    return { kind: 'notify', payload };
  }
  if (action === 'clear') return keys === 'action' ? { kind: 'clear' } : { kind: 'violation', event: action, violation: 'bad-fields', detail: text.slice(0, 120) };
  return { kind: 'violation', event: action.slice(0, 40), violation: 'unknown-action', detail: action.slice(0, 40) };
}
