/**
 * CallerTransport over a SignalWire cXML media stream: the shared media-stream adapter
 * (../media-stream/adapter.ts) speaking Twilio's messages (SignalWire's docs: `clear` returns
 * pending marks, as Twilio's does; the adapter is correct either way).
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { SIGNALWIRE_DIALECT } from './dialect.js';

export class SignalWireTransport extends MediaStreamTransport {
  declare readonly kind: 'signalwire';

  constructor(ws: WebSocket, options: MediaStreamTransportOptions = {}) {
    super(ws, SIGNALWIRE_DIALECT, options);
  }
}
