/**
 * The gateway's own ear on the caller's audio, for local barge-in (`LOCAL_BARGE_IN_MS`).
 *
 * A speech model's VAD hears the caller only after the audio crossed to it, and it wants ~100 ms
 * of speech before it says so; all that while the caller hears stale answer. The energy VAD of
 * src/audio/vad.ts runs here on every caller frame as it arrives (its noise floor must follow
 * the line even while nobody speaks) and reports the frame in which speech started.
 *
 * Chunking does not change the answer: the VAD keeps its state per sample, and μ-law is decoded
 * through one scratch buffer of a fixed size, in slices.
 */
import type { AudioFormat } from '../audio/format.js';
import { decodeMulaw } from '../audio/mulaw.js';
import { EnergyVad } from '../audio/vad.js';

/** Samples decoded per slice (μ-law): 64 ms at 8 kHz, more than a carrier's 20 ms frame. */
const SCRATCH_SAMPLES = 512;

export class LocalSpeechDetector {
  private readonly vad: EnergyVad;
  private readonly scratch: Int16Array | undefined;
  /** The odd byte of a PCM16 chunk that ended mid-sample, waiting for its partner. */
  private pendingByte = -1;

  /** `minSpeechMs`: loud audio needed before speech counts as started. */
  constructor(private readonly format: AudioFormat, minSpeechMs: number) {
    this.vad = new EnergyVad({ sampleRate: format.sampleRate, minSpeechMs });
    this.scratch = format.encoding === 'pcmu' ? new Int16Array(SCRATCH_SAMPLES) : undefined;
  }

  /** Feeds one chunk of caller audio (in the call's format); true when speech started in it. */
  hears(bytes: Uint8Array): boolean {
    return this.format.encoding === 'pcmu' ? this.hearsMulaw(bytes) : this.hearsPcm16(bytes);
  }

  private hearsMulaw(bytes: Uint8Array): boolean {
    const scratch = this.scratch!;
    let started = false;
    for (let offset = 0; offset < bytes.length; offset += SCRATCH_SAMPLES) {
      const slice = bytes.subarray(offset, offset + SCRATCH_SAMPLES);
      const count = decodeMulaw(slice, scratch);
      if (this.started(scratch.subarray(0, count))) started = true;
    }
    return started;
  }

  private hearsPcm16(bytes: Uint8Array): boolean {
    let input = bytes;
    if (this.pendingByte >= 0) {
      input = new Uint8Array(bytes.length + 1);
      input[0] = this.pendingByte;
      input.set(bytes, 1);
      this.pendingByte = -1;
    }
    const whole = input.length & ~1;
    if (whole < input.length) this.pendingByte = input[whole]!;
    if (whole === 0) return false;
    // Int16Array views need an even offset; the rare odd one is copied.
    const samples = input.byteOffset % 2 === 0
      ? new Int16Array(input.buffer, input.byteOffset, whole >> 1)
      : new Int16Array(input.slice(0, whole).buffer);
    return this.started(samples);
  }

  private started(samples: Int16Array): boolean {
    let started = false;
    for (const event of this.vad.process(samples)) if (event.type === 'speech-start') started = true;
    return started;
  }
}
