/**
 * Mic frames → caller audio in the session's one format. The session sees PCM16 at the playback
 * rate in both directions (CallStart.format), so mic audio at another rate is resampled here;
 * gaps in the frame sequence (the client dropped its oldest frames under backpressure) are counted.
 */
import { StreamingResampler } from '../../audio/resampler.js';
import { MAX_MIC_FRAME_MS, decodeFrame, int16ToPcm, pcmDurationMs, pcmToInt16, type FrameResult, type WireRate } from './codec.js';

const SEQ_SPAN = 0x1_0000_0000;
/** A larger jump is a restarted counter or reordering, not lost frames. */
const MAX_COUNTED_GAP = 1_000_000;

export interface MicAudio {
  /** PCM16 LE at the playback rate; a view valid until the next frame. */
  readonly pcm: Uint8Array;
  readonly durationMs: number;
}

export class MicInput {
  /** Frames missing by sequence number. */
  missing = 0;
  frames = 0;
  private lastSeq: number | undefined;
  private readonly resampler: StreamingResampler | undefined;

  constructor(
    private readonly micRate: WireRate,
    private readonly playbackRate: WireRate,
  ) {
    this.resampler = micRate === playbackRate ? undefined : new StreamingResampler(micRate, playbackRate);
  }

  /** Decodes one binary frame: the refusal, or the audio it carries (undefined while the resampler fills). */
  accept(bytes: Uint8Array): { readonly refused: Extract<FrameResult, { ok: false }> } | { readonly audio: MicAudio | undefined } {
    const result = decodeFrame(bytes, { kind: 'mic', sampleRate: this.micRate, maxMs: MAX_MIC_FRAME_MS });
    if (!result.ok) return { refused: result };
    const frame = result.frame;
    this.frames++;
    if (this.lastSeq !== undefined) {
      const gap = (frame.seq - this.lastSeq - 1 + SEQ_SPAN) % SEQ_SPAN;
      if (gap > 0 && gap < MAX_COUNTED_GAP) this.missing += gap;
    }
    this.lastSeq = frame.seq;
    if (this.resampler === undefined) return { audio: { pcm: frame.pcm, durationMs: pcmDurationMs(frame.pcm.byteLength, this.micRate) } };
    const out = this.resampler.process(pcmToInt16(frame.pcm));
    if (out.length === 0) return { audio: undefined };
    return { audio: { pcm: int16ToPcm(out), durationMs: pcmDurationMs(out.length * 2, this.playbackRate) } };
  }
}
