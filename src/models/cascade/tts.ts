/**
 * The text-to-speech contract of the cascade backend (ASR → LLM → TTS). The pipeline synthesises
 * one sentence at a time so it can gate the next sentence on played-ACKs and drop — never flush —
 * what is not yet spoken when the caller barges in; an engine therefore only ever sees one sentence.
 */

/** Per-call options of {@link TextToSpeech.synthesize}. */
export interface SynthesisOptions {
  /**
   * Aborts this synthesis: a request still waiting for the engine leaves the queue at once, one
   * being synthesised stops yielding. The iteration then rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
}

/** A speech synthesiser that turns one sentence into PCM16 mono audio. */
export interface TextToSpeech {
  /** Output sample rate of the PCM16 chunks (one of the rates the project's resampler supports). */
  readonly sampleRate: number;
  /** Engine and voice, for logs and metrics (e.g. `espeak-ng/en`). */
  readonly name: string;
  /**
   * Synthesise one sentence; yields PCM16 mono chunks of at most 100 ms each. A chunk's view must
   * not be retained by the caller beyond the iteration step unless copied. Empty or whitespace-only
   * text yields nothing. Rejects with the signal's reason when aborted.
   */
  synthesize(text: string, options?: SynthesisOptions): AsyncIterable<Int16Array>;
}
