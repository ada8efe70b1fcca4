/**
 * Speech-to-text stage: pluggable. `OpenAiStt` posts the utterance as a WAV file to any
 * OpenAI-compatible `/v1/audio/transcriptions` endpoint (multipart/form-data: `file`, `model`,
 * `response_format=json` → `{ "text": "…" }`). Without STT the reasoning stage gets the utterance
 * without text (its duration and level), which the embedded demo agent is written for.
 */
import { authHeaders, endpointUrl, StageRequest } from './http.js';
import { stageError } from './stage-error.js';
import { encodeWav } from './wav.js';

/** One finished caller utterance, PCM16 mono. */
export interface Utterance {
  readonly samples: Int16Array;
  readonly sampleRate: number;
  /** How long the caller spoke (VAD), which may exceed the audio kept when the utterance was cut. */
  readonly durationMs: number;
  /** RMS level of the kept audio in dBFS (−∞ for digital silence). */
  readonly levelDbfs: number;
  /** True when the caller spoke longer than the utterance bound and the rest was not kept. */
  readonly truncated: boolean;
}

export interface SpeechToText {
  readonly name: string;
  /** The transcript ('' when nothing was recognised). Rejects StageError('stt') or the signal's reason. */
  transcribe(utterance: Utterance, signal: AbortSignal): Promise<string>;
}

export interface OpenAiSttOptions {
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  /** Largest JSON answer accepted. Default 256 KiB. */
  readonly maxResponseBytes?: number;
}

export const TRANSCRIPTIONS_PATH = '/v1/audio/transcriptions';

export class OpenAiStt implements SpeechToText {
  readonly name: string;
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiSttOptions) {
    this.endpoint = endpointUrl(options.url, TRANSCRIPTIONS_PATH);
    this.name = `openai-stt/${options.model}`;
  }

  async transcribe(utterance: Utterance, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    const wav = encodeWav(utterance.samples, utterance.sampleRate);
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'utterance.wav');
    form.append('model', this.options.model);
    form.append('response_format', 'json');
    const request = new StageRequest('stt', this.options.timeoutMs, signal);
    try {
      const response = await request.fetch(this.endpoint, {
        method: 'POST',
        headers: authHeaders(this.options.apiKey),
        body: form,
      });
      const bytes = await request.readAll(response, this.options.maxResponseBytes ?? 256 * 1024);
      return parseTranscription(new TextDecoder().decode(bytes));
    } finally {
      request.dispose();
    }
  }
}

/** `{ "text": "…" }` → the text; anything else is a stage error. */
export function parseTranscription(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw stageError('stt', 'answer is not JSON');
  }
  const text = (parsed as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') throw stageError('stt', 'answer has no "text" string');
  return text.trim();
}
