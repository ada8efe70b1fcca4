/**
 * Builds the cascade backend from configuration. Which stage implementation runs is decided here
 * and nowhere else:
 *
 * | stage     | configured                          | default                                  |
 * |-----------|-------------------------------------|------------------------------------------|
 * | VAD       | —                                   | EnergyVad (src/audio/vad.ts), in-process |
 * | STT       | sttUrl → /v1/audio/transcriptions   | none: the agent gets duration and level  |
 * | reasoning | llmUrl → /v1/chat/completions (SSE) | the embedded demo agent                  |
 * | TTS       | ttsUrl → /v1/audio/speech (pcm)     | the injected `tts` (the offline engine)  |
 *
 * The injected `tts` also speaks the apology when a remote stage fails.
 */
import type { SampleRate } from '../../audio/format.js';
import { EnergyVad } from '../../audio/vad.js';
import { vwError } from '../../errors.js';
import type { ModelFactory, ModelFactoryOptions } from '../model.js';
import { CascadeSession } from './cascade-session.js';
import { DemoAgent, type DemoAgentOptions } from './demo-agent.js';
import { assertSupportedRate } from './framer.js';
import type { VadFactory } from './listener.js';
import { OpenAiChatReasoner } from './llm-openai.js';
import { resolveBounds, type CascadeBounds } from './pipeline.js';
import type { Reasoner } from './reasoner.js';
import type { CascadeLogger } from './response-run.js';
import { OpenAiStt, type SpeechToText } from './stt.js';
import type { TextToSpeech } from './tts.js';
import { OpenAiTts } from './tts-openai.js';

/** A logger that can make per-call children (pino's `Logger` is one). */
export interface CascadeRootLogger extends CascadeLogger {
  child?(bindings: Record<string, unknown>): CascadeLogger;
}

export interface CascadeOptions {
  readonly sttUrl?: string | undefined;
  readonly sttModel?: string | undefined;
  readonly sttApiKey?: string | undefined;
  readonly llmUrl?: string | undefined;
  readonly llmModel?: string | undefined;
  readonly llmApiKey?: string | undefined;
  /** System prompt for the LLM (ignored by the demo agent). */
  readonly instructions?: string | undefined;
  readonly ttsUrl?: string | undefined;
  readonly ttsModel?: string | undefined;
  readonly ttsVoice?: string | undefined;
  readonly ttsApiKey?: string | undefined;
  /** `response_format` asked of the TTS server. Default 'pcm' (24 kHz PCM16). */
  readonly ttsFormat?: 'pcm' | 'wav';
  /** Deadline of each remote request's headers and of each wait on its body. */
  readonly stageTimeoutMs: number;
  readonly logger: CascadeRootLogger;
  /** The offline TTS: the voice when no ttsUrl is set, and the apology's voice always. */
  readonly tts?: TextToSpeech | undefined;
  /** Overrides of the bounds table (pipeline.ts BOUNDS). */
  readonly bounds?: Partial<CascadeBounds>;
  /** Pace of the embedded demo agent. */
  readonly demo?: DemoAgentOptions;
  /** Greet each caller once connected. Default true. */
  readonly greet?: boolean;
  /** Replace a stage (tests, embedding): VAD, STT, the reasoner (one per call: it may keep state). */
  readonly createVad?: VadFactory;
  readonly stt?: SpeechToText;
  readonly createReasoner?: (call: ModelFactoryOptions) => Reasoner;
}

/** The factory the lead's config selects for MODEL_BACKEND=cascade (or no OpenAI key). Validates eagerly. */
export function createCascadeFactory(options: CascadeOptions): ModelFactory {
  const bounds = resolveBounds(options.bounds);
  if (!Number.isFinite(options.stageTimeoutMs) || options.stageTimeoutMs <= 0) {
    throw vwError('VW_ERR_CONFIG', `cascade stageTimeoutMs=${String(options.stageTimeoutMs)} must be > 0`);
  }
  const tts = options.ttsUrl
    ? new OpenAiTts({
        url: options.ttsUrl,
        model: options.ttsModel ?? 'tts-1',
        voice: options.ttsVoice ?? 'alloy',
        apiKey: options.ttsApiKey,
        timeoutMs: options.stageTimeoutMs,
        format: options.ttsFormat ?? 'pcm',
      })
    : options.tts;
  if (!tts) throw vwError('VW_ERR_CONFIG', 'the cascade needs a TTS: set TTS_URL or provide the offline TTS');
  assertSupportedRate(tts.sampleRate, `TTS ${tts.name}`);
  if (options.tts) assertSupportedRate(options.tts.sampleRate, `TTS ${options.tts.name}`);
  const stt =
    options.stt ??
    (options.sttUrl
      ? new OpenAiStt({ url: options.sttUrl, model: options.sttModel ?? 'whisper-1', apiKey: options.sttApiKey, timeoutMs: options.stageTimeoutMs })
      : undefined);
  const createReasoner =
    options.createReasoner ??
    (options.llmUrl
      ? (call: ModelFactoryOptions) =>
          new OpenAiChatReasoner({
            url: options.llmUrl as string,
            model: options.llmModel ?? 'gpt-4o-mini',
            apiKey: options.llmApiKey,
            timeoutMs: options.stageTimeoutMs,
            systemPrompt: call.settings?.instructions ?? options.instructions,
          })
      : () => new DemoAgent(options.demo));
  const createVad: VadFactory = options.createVad ?? ((o: { sampleRate: SampleRate }) => new EnergyVad({ sampleRate: o.sampleRate }));

  return (call: ModelFactoryOptions) =>
    new CascadeSession({
      callId: call.callId,
      callerFormat: call.callerFormat,
      bounds,
      logger: options.logger.child?.({ backend: 'cascade', callId: call.callId }) ?? options.logger,
      reasoner: createReasoner(call),
      stt,
      tts,
      apologyTts: options.tts ?? tts,
      createVad,
      greet: options.greet,
      ...(call.settings?.tools ? { tools: call.settings.tools } : {}),
    });
}
