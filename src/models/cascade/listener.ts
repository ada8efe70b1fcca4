/**
 * The caller side of the cascade, in-process: caller audio (μ-law 8 k for Twilio, PCM16 for
 * browsers) is decoded to PCM16, resampled to 16 kHz (the rate speech recognisers want), run
 * through the VAD for turn-taking and barge-in, and recorded into a bounded utterance.
 */
import { PCM16_16K, type AudioFormat, type SampleRate } from '../../audio/format.js';
import { decodeMulaw } from '../../audio/mulaw.js';
import { StreamingResampler } from '../../audio/resampler.js';
import type { Utterance } from './stt.js';
import { UtteranceRecorder } from './utterance.js';

export type VadEvent =
  | { readonly type: 'speech-start'; readonly atMs: number; readonly onsetMs?: number }
  | { readonly type: 'speech-end'; readonly atMs: number; readonly speechMs: number };

/** The VAD contract (src/audio/vad.ts `EnergyVad` implements it). */
export interface VoiceActivityDetector {
  process(samples: Int16Array): readonly VadEvent[];
  reset(): void;
  readonly speaking: boolean;
}

export type VadFactory = (options: { sampleRate: SampleRate }) => VoiceActivityDetector;

export interface ListenerHandlers {
  /** Speech onset; `detectionMs` = audio ms from the voice's onset to the end of the chunk that revealed it. */
  speechStarted(detectionMs: number): void;
  speechStopped(utterance: Utterance): void;
}

export interface CallerListenerOptions {
  readonly format: AudioFormat;
  readonly createVad: VadFactory;
  readonly preRollMs: number;
  readonly maxUtteranceMs: number;
  /** Largest caller frame decoded at once; longer input is processed in slices of it. */
  readonly maxFrameMs?: number;
}

/** The analysis rate: 16 kHz mono PCM16. */
export const LISTEN_RATE = PCM16_16K.sampleRate;

export class CallerListener {
  private readonly format: AudioFormat;
  private readonly vad: VoiceActivityDetector;
  private readonly recorder: UtteranceRecorder;
  private readonly resampler: StreamingResampler | undefined;
  /** Decode scratch, reused: one slice of caller audio. */
  private readonly scratch: Int16Array;
  private readonly sliceBytes: number;
  /** Audio ms fed to the VAD so far (its clock). */
  private positionMs = 0;

  constructor(
    options: CallerListenerOptions,
    private readonly handlers: ListenerHandlers,
  ) {
    this.format = options.format;
    this.vad = options.createVad({ sampleRate: LISTEN_RATE });
    this.recorder = new UtteranceRecorder({
      sampleRate: LISTEN_RATE,
      preRollMs: options.preRollMs,
      maxUtteranceMs: options.maxUtteranceMs,
    });
    this.resampler = options.format.sampleRate === LISTEN_RATE ? undefined : new StreamingResampler(options.format.sampleRate, LISTEN_RATE);
    const sliceSamples = Math.round(((options.maxFrameMs ?? 200) * options.format.sampleRate) / 1000);
    this.scratch = new Int16Array(sliceSamples);
    this.sliceBytes = sliceSamples * (options.format.encoding === 'pcmu' ? 1 : 2);
  }

  get speaking(): boolean {
    return this.vad.speaking;
  }

  /** Caller audio in the caller's format. */
  push(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += this.sliceBytes) {
      this.pushSlice(bytes.subarray(at, Math.min(bytes.length, at + this.sliceBytes)));
    }
  }

  /** Forget a half-heard utterance and the VAD state (after close, or a reset of the call). */
  reset(): void {
    this.vad.reset();
    this.resampler?.reset();
    if (this.recorder.recording) this.recorder.finish(0);
    this.positionMs = 0;
  }

  private pushSlice(bytes: Uint8Array): void {
    const pcm = this.decode(bytes);
    const samples = this.resampler ? this.resampler.process(pcm) : pcm;
    this.positionMs += (samples.length * 1000) / LISTEN_RATE;
    this.recorder.push(samples);
    for (const event of this.vad.process(samples)) this.onVadEvent(event);
  }

  private onVadEvent(event: VadEvent): void {
    if (event.type === 'speech-start') {
      this.recorder.start();
      this.handlers.speechStarted(Math.max(0, this.positionMs - (event.onsetMs ?? event.atMs)));
      return;
    }
    if (!this.recorder.recording) return;
    this.handlers.speechStopped(this.recorder.finish(event.speechMs));
  }

  private decode(bytes: Uint8Array): Int16Array {
    if (this.format.encoding === 'pcmu') {
      const n = decodeMulaw(bytes, this.scratch);
      return this.scratch.subarray(0, n);
    }
    const n = bytes.length >> 1;
    for (let i = 0; i < n; i++) this.scratch[i] = ((bytes[2 * i + 1] ?? 0) << 24) >> 16 | (bytes[2 * i] ?? 0);
    return this.scratch.subarray(0, n);
  }
}
