/**
 * SignalWire's cXML `<Connect><Stream>` media WebSocket: the Compatibility API speaks Twilio's
 * Media Streams messages (https://developer.signalwire.com/compatibility-api/cxml/voice/stream),
 * so the dialect is Twilio's codec under SignalWire's name, with SignalWire's id shape: its
 * CallSid, AccountSid (project) and StreamSid are UUIDs. Audio: PCMU 8 kHz, the `codec` default
 * (`L16@16000h`/`L16@24000h` are not requested by our cXML).
 */
import type { MediaStreamDialect } from '../media-stream/dialect.js';
import { twilioLikeDialect } from '../twilio/dialect.js';

/** UUIDs (and Twilio-style sids, which SignalWire also accepts on its compatibility surface). */
export const SIGNALWIRE_SID = /^[A-Za-z0-9-]{1,64}$/;

export const SIGNALWIRE_DIALECT: MediaStreamDialect = twilioLikeDialect({ kind: 'signalwire', label: 'signalwire', owner: 'SignalWireTransport', sidPattern: SIGNALWIRE_SID });
