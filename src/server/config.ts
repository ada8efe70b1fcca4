/**
 * Configuration from the environment, validated at start-up: every bad value gets its own message
 * and the gateway refuses to start rather than run with a surprise default.
 */
import { readFileSync } from 'node:fs';
import { checkTools, type HttpTool } from '../agent/call-setup.js';

export type ModelBackendName = 'openai-realtime' | 'cascade';

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** Public base URL (https://host) used to build the wss:// stream URL and to check signatures. */
  readonly publicUrl: string | undefined;
  readonly logLevel: string;

  readonly backend: ModelBackendName;
  readonly openai: {
    readonly apiKey: string | undefined;
    readonly realtimeUrl: string;
    readonly model: string;
    readonly voice: string;
    readonly instructions: string;
    /** Audio format on the model socket: μ-law passthrough or PCM16 24 kHz through the resampler. */
    readonly audioFormat: 'pcmu' | 'pcm24k';
    /** How the key is sent: `Authorization: Bearer` or Azure's `api-key`; undefined = by host. */
    readonly authHeader: 'bearer' | 'api-key' | undefined;
  };
  readonly cascade: {
    readonly sttUrl: string | undefined;
    readonly sttModel: string;
    readonly sttApiKey: string | undefined;
    readonly llmUrl: string | undefined;
    readonly llmModel: string;
    readonly llmApiKey: string | undefined;
    readonly ttsUrl: string | undefined;
    readonly ttsModel: string;
    readonly ttsVoice: string;
    readonly ttsApiKey: string | undefined;
    readonly stageTimeoutMs: number;
  };

  readonly twilioAuthToken: string | undefined;
  readonly creditWindowMs: number;
  /** Cap of the per-call model-audio queue (ms); past it the response is cancelled. */
  readonly maxQueuedAudioMs: number;
  /** Cap of caller audio waiting for a slow model socket (ms); oldest dropped past it. */
  readonly callerQueueMs: number;
  readonly bufferedWarnBytes: number;
  readonly slowConsumerBytes: number;
  readonly slowConsumerMs: number;
  readonly heartbeatMs: number;
  readonly maxCalls: number;

  readonly sessionSecret: string | undefined;
  readonly sessionTokenTtlMs: number;
  readonly allowedOrigins: readonly string[];

  /** Agents that act: per-call setup, tools, events, call control. */
  readonly agent: {
    readonly setupUrl: string | undefined;
    readonly setupTimeoutMs: number;
    /** TOOLS_FILE's tools (validated at start-up). */
    readonly tools: readonly HttpTool[];
    readonly eventsUrl: string | undefined;
    /** Realtime input transcription model; undefined: off. */
    readonly transcribeModel: string | undefined;
    readonly twilioApiUrl: string;
    readonly twilioAccountSid: string | undefined;
  };
}

export const DEFAULT_TWILIO_API_URL = 'https://api.twilio.com';

export const DEFAULT_REALTIME_URL = 'wss://api.openai.com/v1/realtime';
export const DEFAULT_MODEL = 'gpt-realtime';

type Env = Readonly<Record<string, string | undefined>>;

class ConfigReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)} is not a whole number`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.problems.push(`${name}=${value} is outside ${min}–${max}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      this.problems.push(`${name}=${JSON.stringify(raw)} is not a URL`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      this.problems.push(`${name} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
      return undefined;
    }
    return raw.replace(/\/+$/, '');
  }
}

export type ConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Reads and validates the gateway's configuration; every problem is reported, not only the first. */
export function loadConfig(env: Env = process.env): ConfigResult {
  const read = new ConfigReader(env);
  const apiKey = read.string('OPENAI_API_KEY');
  const backendRaw = read.oneOf('MODEL_BACKEND', ['openai-realtime', 'cascade', 'auto'], 'auto');
  const backend: ModelBackendName =
    backendRaw === 'auto' ? (apiKey ? 'openai-realtime' : 'cascade') : backendRaw;
  if (backend === 'openai-realtime' && !apiKey) {
    read.problems.push('MODEL_BACKEND=openai-realtime needs OPENAI_API_KEY');
  }
  const model = read.string('OPENAI_MODEL') ?? DEFAULT_MODEL;
  const realtimeUrl =
    read.url('OPENAI_REALTIME_URL', ['wss:', 'ws:']) ??
    `${DEFAULT_REALTIME_URL}?model=${encodeURIComponent(model)}`;

  const config: GatewayConfig = {
    port: read.int('PORT', 8080, 0, 65535),
    host: read.string('HOST') ?? '0.0.0.0',
    publicUrl: read.url('PUBLIC_URL', ['https:', 'http:']),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    backend,
    openai: {
      apiKey,
      realtimeUrl,
      model,
      voice: read.string('VOICE') ?? 'marin',
      instructions:
        read.string('INSTRUCTIONS') ??
        'You are a helpful, concise voice assistant on a phone call. Keep answers short and friendly.',
      audioFormat: read.oneOf('OPENAI_AUDIO_FORMAT', ['pcmu', 'pcm24k'], 'pcmu'),
      authHeader: ((auth) => (auth === 'auto' ? undefined : auth))(read.oneOf('OPENAI_AUTH_HEADER', ['auto', 'bearer', 'api-key'], 'auto')),
    },
    cascade: {
      sttUrl: read.url('STT_URL', ['http:', 'https:']),
      sttModel: read.string('STT_MODEL') ?? 'whisper-1',
      sttApiKey: read.string('STT_API_KEY'),
      llmUrl: read.url('LLM_URL', ['http:', 'https:']),
      llmModel: read.string('LLM_MODEL') ?? 'gpt-4o-mini',
      llmApiKey: read.string('LLM_API_KEY'),
      ttsUrl: read.url('TTS_URL', ['http:', 'https:']),
      ttsModel: read.string('TTS_MODEL') ?? 'tts-1',
      ttsVoice: read.string('TTS_VOICE') ?? 'alloy',
      ttsApiKey: read.string('TTS_API_KEY'),
      stageTimeoutMs: read.int('STAGE_TIMEOUT_MS', 10_000, 500, 120_000),
    },
    twilioAuthToken: read.string('TWILIO_AUTH_TOKEN'),
    creditWindowMs: read.int('CREDIT_WINDOW_MS', 800, 200, 2000),
    maxQueuedAudioMs: read.int('MAX_QUEUED_AUDIO_MS', 120_000, 1_000, 600_000),
    callerQueueMs: read.int('CALLER_QUEUE_MS', 2_000, 100, 60_000),
    bufferedWarnBytes: read.int('BUFFERED_WARN_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    slowConsumerBytes: read.int('SLOW_CONSUMER_BYTES', 1024 * 1024, 4096, 256 * 1024 * 1024),
    slowConsumerMs: read.int('SLOW_CONSUMER_MS', 5_000, 100, 600_000),
    heartbeatMs: read.int('HEARTBEAT_MS', 10_000, 100, 600_000),
    maxCalls: read.int('MAX_CALLS', 1_000, 1, 100_000),
    sessionSecret: read.string('SESSION_SECRET'),
    sessionTokenTtlMs: read.int('SESSION_TOKEN_TTL_MS', 60_000, 1_000, 3_600_000),
    allowedOrigins: (read.string('ALLOWED_ORIGINS') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
    agent: readAgentConfig(read),
  };
  if (config.slowConsumerBytes < config.bufferedWarnBytes) {
    read.problems.push('SLOW_CONSUMER_BYTES must be ≥ BUFFERED_WARN_BYTES');
  }
  return read.problems.length > 0 ? { ok: false, problems: read.problems } : { ok: true, config };
}

function readAgentConfig(read: ConfigReader): GatewayConfig['agent'] {
  const accountSid = read.string('TWILIO_ACCOUNT_SID');
  if (accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) read.problems.push('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  const transcribeModel = read.string('TRANSCRIBE_MODEL');
  if (transcribeModel !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(transcribeModel)) read.problems.push(`TRANSCRIBE_MODEL=${JSON.stringify(transcribeModel)} is not a model name`);
  return {
    setupUrl: read.url('CALL_SETUP_URL', ['http:', 'https:']),
    setupTimeoutMs: read.int('CALL_SETUP_TIMEOUT_MS', 3_000, 100, 15_000),
    tools: readToolsFile(read),
    eventsUrl: read.url('EVENTS_URL', ['http:', 'https:']),
    transcribeModel,
    twilioApiUrl: read.url('TWILIO_API_URL', ['https:', 'http:']) ?? DEFAULT_TWILIO_API_URL,
    twilioAccountSid: accountSid,
  };
}

/** TOOLS_FILE: a JSON array of HTTP tools, the same shape as the setup answer's `tools`. */
function readToolsFile(read: ConfigReader): readonly HttpTool[] {
  const path = read.string('TOOLS_FILE');
  if (path === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    read.problems.push(`TOOLS_FILE ${path}: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
  const checked = checkTools(json);
  if (!checked.ok) {
    read.problems.push(`TOOLS_FILE ${path}: bad or missing field ${checked.path}`);
    return [];
  }
  return checked.value;
}
