/**
 * CallerTransport over a Plivo Audio Streams WebSocket: the shared media-stream adapter
 * (../media-stream/adapter.ts, which explains the flow control) speaking the Plivo dialect
 * (dialect.ts). The `start` message fixes the format of both directions (μ-law 8 kHz passes
 * through to a μ-law model untouched; L16 8/16 kHz is PCM16 little-endian, which the model backend
 * resamples).
 *
 * Checkpoint names are the Twilio mark names (epoch, per-connection sequence number, cumulative
 * position), so a `playedStream` is judged on its own:
 * - Plivo emits `playedStream` only for audio that actually played, and nothing for checkpoints a
 *   `clearAudio` dropped. Should it ever acknowledge those (before or after `clearedAudio`), their
 *   sequence numbers are below the clear and they never count as played.
 * - `clearAudio` is sent on every barge-in; `clearedAudio` is counted, and the credit does not wait
 *   for it: the session restarts the new epoch at a full window, and Plivo processes messages in
 *   order, so audio sent after the clear is never dropped by it.
 */
import type { WebSocket } from 'ws';
import { MediaStreamTransport, type MediaStreamStats, type MediaStreamTransportOptions } from '../media-stream/adapter.js';
import { PLIVO_DIALECT } from './dialect.js';

export { audioFormatOf, parseExtraHeaders } from './dialect.js';

export type PlivoTransportOptions = MediaStreamTransportOptions;

/** The shared counters under Plivo's names as well. */
export interface PlivoTransportStats extends MediaStreamStats {
  /** `playAudio` messages sent. */
  playsSent: number;
  checkpointsSent: number;
  /** `clearedAudio` acknowledgements received. */
  clearsAcknowledged: number;
  /** `playedStream` that confirmed playback. */
  playedTrusted: number;
  /** `playedStream` of checkpoints sent before a clear (never count as played). */
  playedFlushed: number;
  /** `playedStream` whose name is not ours, or that we never sent. */
  playedUnknown: number;
}

export class PlivoTransport extends MediaStreamTransport {
  declare readonly kind: 'plivo';

  constructor(ws: WebSocket, options: PlivoTransportOptions = {}) {
    super(ws, PLIVO_DIALECT, options);
  }

  override stats(): Readonly<PlivoTransportStats> {
    const s = super.stats();
    return {
      ...s,
      playsSent: s.mediaSent,
      checkpointsSent: s.marksSent,
      clearsAcknowledged: s.notices,
      playedTrusted: s.echoesTrusted,
      playedFlushed: s.echoesFlushed,
      playedUnknown: s.echoesUnknown,
    };
  }
}
