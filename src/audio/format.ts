/**
 * Audio formats on the wire and frame maths. Every duration in voicewire is in milliseconds of
 * audio; every byte count is derived here so no other file hard-codes "160 bytes per 20 ms".
 */

/** The encodings voicewire moves: G.711 μ-law (Twilio, OpenAI `audio/pcmu`) or 16-bit LE PCM. */
export type AudioEncoding = 'pcmu' | 'pcm16';

/** The sample rates the resampler supports: Twilio (8 k), browsers/ASR (16 k), OpenAI (24 k). */
export type SampleRate = 8000 | 16000 | 24000;

export interface AudioFormat {
  readonly encoding: AudioEncoding;
  readonly sampleRate: SampleRate;
}

export const TWILIO_FORMAT: AudioFormat = { encoding: 'pcmu', sampleRate: 8000 };
export const PCM16_24K: AudioFormat = { encoding: 'pcm16', sampleRate: 24000 };
export const PCM16_16K: AudioFormat = { encoding: 'pcm16', sampleRate: 16000 };
export const PCM16_8K: AudioFormat = { encoding: 'pcm16', sampleRate: 8000 };

/** The frame length every stage uses unless a peer dictates otherwise (Twilio sends 20 ms). */
export const FRAME_MS = 20;

export function bytesPerSample(format: AudioFormat): number {
  return format.encoding === 'pcmu' ? 1 : 2;
}

/** Bytes in one millisecond of audio (μ-law 8 k: 8; PCM16 24 k: 48). Always a whole number. */
export function bytesPerMs(format: AudioFormat): number {
  return (format.sampleRate / 1000) * bytesPerSample(format);
}

export function msToBytes(format: AudioFormat, ms: number): number {
  return Math.round(ms * bytesPerMs(format));
}

export function bytesToMs(format: AudioFormat, bytes: number): number {
  return bytes / bytesPerMs(format);
}

export function samplesToMs(sampleRate: number, samples: number): number {
  return (samples * 1000) / sampleRate;
}

export function msToSamples(sampleRate: number, ms: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

/** Bytes in one standard frame of `format` (Twilio: 160). */
export function frameBytes(format: AudioFormat, frameMs: number = FRAME_MS): number {
  return msToBytes(format, frameMs);
}

export function isSameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.encoding === b.encoding && a.sampleRate === b.sampleRate;
}

export function formatName(format: AudioFormat): string {
  return `${format.encoding}/${format.sampleRate}`;
}
