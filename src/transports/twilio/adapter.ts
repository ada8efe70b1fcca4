/**
 * CallerTransport over a Twilio Media Streams WebSocket: the shared media-stream adapter
 * (../media-stream/adapter.ts, which explains the flow control) speaking the Twilio dialect.
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamStats, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { TWILIO_DIALECT } from './dialect.js';

export type { TransportLogger } from '../socket-link.js';

export type TwilioTransportOptions = MediaStreamTransportOptions;
export type TwilioTransportStats = MediaStreamStats;

export class TwilioTransport extends MediaStreamTransport {
  declare readonly kind: 'twilio';

  constructor(ws: WebSocket, options: TwilioTransportOptions = {}) {
    super(ws, TWILIO_DIALECT, options);
  }

  /** The streamSid from `start` (undefined before it). */
  get streamSid(): string | undefined {
    return this.streamId;
  }
}
