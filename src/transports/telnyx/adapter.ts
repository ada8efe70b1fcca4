/**
 * CallerTransport over a Telnyx media stream: the shared media-stream adapter
 * (../media-stream/adapter.ts, which explains the flow control) speaking the Telnyx dialect.
 * Telnyx echoes a mark when the audio before it has played and returns pending marks on `clear`;
 * the adapter is correct whether or not it does (sequence numbers in mark names).
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { TELNYX_DIALECT } from './dialect.js';

export class TelnyxTransport extends MediaStreamTransport {
  declare readonly kind: 'telnyx';

  constructor(ws: WebSocket, options: MediaStreamTransportOptions = {}) {
    super(ws, TELNYX_DIALECT, options);
  }
}
