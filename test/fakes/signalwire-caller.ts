/**
 * A fake SignalWire caller: SignalWire's cXML media stream is Twilio's protocol (its docs say so,
 * and that `clear` returns pending marks), so this is the fake Twilio caller with SignalWire's
 * ids — UUIDs for the call, the project (AccountSid) and the stream.
 */
import { randomUUID } from 'node:crypto';
import type { CallerWire } from './caller-wire.js';
import { FakeTwilioCaller, type FakeTwilioCallerOptions } from './twilio-caller.js';
import { TWILIO_WIRE } from './twilio-wire.js';

export const SIGNALWIRE_WIRE: CallerWire = {
  ...TWILIO_WIRE,
  name: 'signalwire',
  newIds: () => ({ streamId: randomUUID(), callId: randomUUID(), accountId: randomUUID() }),
};

/** Connects a fake SignalWire caller to `url` (`ws://…/signalwire/media`) and starts its stream. */
export function connectSignalWireCaller(url: string, options: Omit<FakeTwilioCallerOptions, 'wire'> = {}): Promise<FakeTwilioCaller> {
  return FakeTwilioCaller.connect(url, { ...options, wire: SIGNALWIRE_WIRE });
}
