/**
 * Text-to-speech through any OpenAI-compatible `/v1/audio/speech`: `{ model, voice, input,
 * response_format }` → a stream of raw PCM16 LE mono at 24 kHz (`pcm`) or a WAV header followed by
 * PCM16 (`wav`, often with an unknown data length). Chunks are yielded as they arrive, split at
 * sample boundaries (a chunk may end in the middle of a sample), and the body is read only when
 * the consumer asks for more.
 */
import { authHeaders, body, endpointUrl, StageRequest } from './http.js';
import { stageError, toStageError } from './stage-error.js';
import type { SynthesisOptions, TextToSpeech } from './tts.js';
import { MAX_WAV_HEADER_BYTES, parseWavHeader, type WavHeader } from './wav.js';

export interface OpenAiTtsOptions {
  readonly url: string;
  readonly model: string;
  readonly voice: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
  /** Default 'pcm' (OpenAI: 24 kHz PCM16 LE mono). */
  readonly format?: 'pcm' | 'wav';
  /** Output rate: 24000 for OpenAI; servers with another rate must say so here. */
  readonly sampleRate?: number;
}

export const SPEECH_PATH = '/v1/audio/speech';

export class OpenAiTts implements TextToSpeech {
  readonly name: string;
  readonly sampleRate: number;
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiTtsOptions) {
    this.endpoint = endpointUrl(options.url, SPEECH_PATH);
    this.sampleRate = options.sampleRate ?? 24000;
    this.name = `openai-tts/${options.model}/${options.voice}`;
  }

  async *synthesize(text: string, options: SynthesisOptions = {}): AsyncIterable<Int16Array> {
    const input = text.trim();
    if (input.length === 0) return;
    const format = this.options.format ?? 'pcm';
    const request = new StageRequest('tts', this.options.timeoutMs, options.signal);
    try {
      const response = await request.fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(this.options.apiKey) },
        body: JSON.stringify({ model: this.options.model, voice: this.options.voice, input, response_format: format }),
      });
      const reader = body(response, 'tts').getReader();
      const assembler = new Pcm16Assembler(format === 'wav' ? 'wav' : 'raw', this.sampleRate);
      for (;;) {
        const { done, value } = await request.read(reader);
        if (done) break;
        const samples = assembler.push(value);
        if (samples.length > 0) yield samples;
      }
      assembler.end();
    } catch (err) {
      throw options.signal?.aborted ? request.failure(err) : toStageError('tts', err);
    } finally {
      request.dispose();
    }
  }
}

/**
 * Bytes → PCM16 samples across arbitrary chunk boundaries: carries an odd byte (and, for WAV, the
 * header until it is complete, bounded by MAX_WAV_HEADER_BYTES). Multi-channel WAV keeps channel 0.
 */
export class Pcm16Assembler {
  private header: WavHeader | undefined;
  private headerBytes: Uint8Array | undefined;
  /** Bytes of an unfinished sample frame (fewer than one frame: bounded). */
  private carry = new Uint8Array(0);

  constructor(
    private readonly container: 'raw' | 'wav',
    private readonly expectedRate: number,
  ) {
    if (container === 'wav') this.headerBytes = new Uint8Array(0);
  }

  push(chunk: Uint8Array): Int16Array {
    let bytes = chunk;
    if (this.headerBytes) {
      const joined = concat(this.headerBytes, chunk);
      const header = parseWavHeader(joined, 'tts');
      if (!header) {
        if (joined.length > MAX_WAV_HEADER_BYTES) throw stageError('tts', 'WAV header too long');
        this.headerBytes = joined;
        return new Int16Array(0);
      }
      if (header.sampleRate !== this.expectedRate) {
        throw stageError('tts', `WAV at ${header.sampleRate} Hz, expected ${this.expectedRate} Hz`);
      }
      this.header = header;
      this.headerBytes = undefined;
      bytes = joined.subarray(header.dataOffset);
    }
    const channels = this.header?.channels ?? 1;
    const frameBytes = 2 * channels;
    const all = this.carry.length > 0 ? concat(this.carry, bytes) : bytes;
    const frames = Math.floor(all.length / frameBytes);
    const out = new Int16Array(frames);
    for (let i = 0; i < frames; i++) {
      const at = i * frameBytes;
      out[i] = ((all[at + 1] ?? 0) << 24) >> 16 | (all[at] ?? 0);
    }
    this.carry = all.slice(frames * frameBytes);
    return out;
  }

  /** End of the stream: a WAV without a complete header is malformed; a trailing odd byte is dropped. */
  end(): void {
    if (this.headerBytes && this.headerBytes.length > 0) throw stageError('tts', 'stream ended inside the WAV header');
    this.carry = new Uint8Array(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
