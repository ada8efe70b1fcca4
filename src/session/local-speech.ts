/**
 * The gateway's own ear on the caller's audio, for local barge-in (`LOCAL_BARGE_IN_MS`).
 *
 * A speech model's VAD hears the caller only after the audio crossed to it, and it wants ~100 ms
 * of speech before it says so; all that while the caller hears stale answer. The energy VAD of
 * src/audio/vad.ts runs here on every caller frame as it arrives (its noise floor must follow
 * the line even while nobody speaks) and reports the frame in which speech started.
 *
 * Chunking does not change the answer: the VAD keeps its state per sample, and the decoder
 * (models/shared/convert.ts) carries a PCM16 chunk's odd byte over to the next.
 */
import { PCM16_16K, type AudioFormat } from '../audio/format.js';
import { EnergyVad } from '../audio/vad.js';
import { FormatConverter } from '../models/shared/convert.js';

export class LocalSpeechDetector {
  private readonly vad: EnergyVad;
  private readonly decoder: FormatConverter;

  /** `minSpeechMs`: loud audio needed before speech counts as started. */
  constructor(format: AudioFormat, minSpeechMs: number) {
    this.vad = new EnergyVad({ sampleRate: format.sampleRate, minSpeechMs });
    this.decoder = new FormatConverter(format, { ...PCM16_16K, sampleRate: format.sampleRate });
  }

  /** Feeds one chunk of caller audio (in the call's format); true when speech started in it. */
  hears(bytes: Uint8Array): boolean {
    let started = false;
    for (const event of this.vad.process(this.decoder.toSamples(bytes))) if (event.type === 'speech-start') started = true;
    return started;
  }
}
