/**
 * CallerTransport over an Exotel Voicebot stream: the shared media-stream adapter
 * (../media-stream/adapter.ts) speaking Exotel's dialect. The caller's format is PCM16 at the
 * applet's sample rate (8 kHz unless `?sample-rate=` asks for 16 or 24 kHz), so the model side
 * goes through the resampler rather than μ-law pass-through; outbound media is cut in whole
 * multiples of 320 bytes. Exotel's docs do not say whether `clear` returns pending marks: the
 * adapter is correct whether it echoes them (in any order) or drops them (mark sequence numbers).
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { EXOTEL_DIALECT } from './dialect.js';

export class ExotelTransport extends MediaStreamTransport {
  declare readonly kind: 'exotel';

  constructor(ws: WebSocket, options: MediaStreamTransportOptions = {}) {
    super(ws, EXOTEL_DIALECT, options);
  }
}
