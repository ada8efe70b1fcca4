/**
 * CallerTransport over a Vonage Voice API WebSocket: the shared media-stream adapter
 * (../media-stream/adapter.ts, which explains the flow control) speaking the Vonage dialect
 * (dialect.ts).
 *
 * Inbound: `websocket:connected` fixes the format (L16 at the endpoint's rate, PCM16
 * little-endian: the model backend resamples it) and raises `start`; binary messages are caller
 * audio; `websocket:dtmf` is a keypress. Outbound: model audio in 20 ms binary frames, with a
 * `notify` after every `markEveryMs` of audio and at each sentence end; a remainder shorter than a
 * frame waits for more audio of the epoch and is padded with silence at a sentence end, so the
 * caller holds at most the credit window + one frame. Barge-in sends `clear`; Vonage's docs do not
 * say whether notifies pending at a clear are echoed, so either way is handled: their sequence
 * numbers are below the clear, and they never count as played, whether they arrive before or
 * after `websocket:cleared`.
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamStats, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { VONAGE_DIALECT } from './dialect.js';

export type VonageTransportOptions = MediaStreamTransportOptions;

/** The shared counters under Vonage's names as well. */
export interface VonageTransportStats extends MediaStreamStats {
  framesSent: number;
  notifiesSent: number;
  /** `websocket:cleared` acknowledgements received. */
  clearsAcknowledged: number;
  notifiesTrusted: number;
  /** Echoes of notifies sent before a clear (never count as played). */
  notifiesFlushed: number;
  notifiesUnknown: number;
  /** Bytes of model audio sent (padding excluded). */
  audioBytesSent: number;
}

export class VonageTransport extends MediaStreamTransport {
  declare readonly kind: 'vonage';

  constructor(ws: WebSocket, options: VonageTransportOptions = {}) {
    super(ws, VONAGE_DIALECT, options);
  }

  override stats(): Readonly<VonageTransportStats> {
    const s = super.stats();
    return {
      ...s,
      framesSent: s.mediaSent,
      notifiesSent: s.marksSent,
      clearsAcknowledged: s.notices,
      notifiesTrusted: s.echoesTrusted,
      notifiesFlushed: s.echoesFlushed,
      notifiesUnknown: s.echoesUnknown,
      audioBytesSent: s.bytesSent - s.paddingBytes,
    };
  }
}
