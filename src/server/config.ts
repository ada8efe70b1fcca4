/**
 * Configuration from the environment, validated at start-up: every bad value gets its own message
 * and the gateway refuses to start rather than run with a surprise default.
 */
import { readFleetConfig, type FleetConfig } from './fleet-config.js';
import { readFileSync } from 'node:fs';
import { checkTools, MAX_LOCAL_BARGE_IN_HOLD_MS, MAX_LOCAL_BARGE_IN_MS, MIN_LOCAL_BARGE_IN_HOLD_MS, type HttpTool } from '../agent/call-setup.js';

import { telnyxPublicKey as telnyxPublicKeyObject } from '../transports/telnyx/signature.js';
import { readTelemetrySettings, type TelemetrySettings } from '../telemetry/settings.js';
import { DEFAULT_LOCAL_BARGE_IN_HOLD_MS, DEFAULT_START_CUSHION_MS, DEFAULT_START_HOLD_MS } from '../session/call-session-options.js';

export type ModelBackendName = 'openai-realtime' | 'cascade' | 'gemini-live' | 'deepgram-agent' | 'elevenlabs-agent';

/** `MODEL_BACKEND=auto`: the first backend whose key is set, in this order; else the cascade. */
export const AUTO_BACKEND_ORDER = ['openai-realtime', 'gemini-live', 'deepgram-agent', 'elevenlabs-agent'] as const;

export interface GatewayConfig {
  readonly port: number;
  readonly host: string;
  /** Public base URL (https://host) used to build the wss:// stream URL and to check signatures. */
  readonly publicUrl: string | undefined;
  readonly logLevel: string;

  readonly backend: ModelBackendName;
  /** True when INSTRUCTIONS is set: ElevenLabs agents keep their own prompt otherwise. */
  readonly instructionsSet: boolean;
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
  readonly gemini: {
    readonly apiKey: string | undefined;
    /** Google's BidiGenerateContent endpoint unless set (Vertex, a proxy, a test server). */
    readonly url: string;
    readonly model: string;
    /** Prebuilt voice; undefined = the model's default (VOICE is used only when set explicitly). */
    readonly voice: string | undefined;
  };
  readonly deepgram: {
    readonly apiKey: string | undefined;
    readonly url: string;
    readonly listenModel: string;
    readonly thinkProvider: string;
    readonly thinkModel: string;
    readonly speakModel: string;
  };
  readonly elevenlabs: {
    readonly apiKey: string | undefined;
    readonly agentId: string | undefined;
    readonly url: string;
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
  /** Credentials and options of the other carriers (Telnyx, SignalWire, Exotel, Plivo, Vonage). */
  readonly carriers: CarrierConfig;
  /** Credit window (ms): the fixed one, or with `creditWindowAuto` the one a call starts with. */
  readonly creditWindowMs: number;
  /** `CREDIT_WINDOW_MS=auto`: each call's window adapts to its link (400–1500 ms). */
  readonly creditWindowAuto: boolean;
  /** Cap of the per-call model-audio queue (ms); past it the response is cancelled. */
  readonly maxQueuedAudioMs: number;
  /** The first message to a dry player carries this much audio (ms; 0 = off), waiting at most startHoldMs for it. */
  readonly startCushionMs: number;
  readonly startHoldMs: number;
  /** Local barge-in: the gateway's VAD interrupts the answer after this much caller speech (ms; 0 = off: the model's VAD alone). */
  readonly localBargeInMs: number;
  /** How long a local barge-in holds the answer for the model to hear speech too (ms); past it, a false start: the answer resumes. */
  readonly localBargeInHoldMs: number;
  /** Cap of caller audio waiting for a slow model socket (ms); oldest dropped past it. */
  readonly callerQueueMs: number;
  /** Quiet caller audio gathered into one model message (OpenAI Realtime `input_audio_buffer.append`), ms; 0 = one per frame. */
  readonly modelInputBatchMs: number;
  /** The same while the model's VAD hears no speech (no turn is ending), ms; never less than modelInputBatchMs. */
  readonly modelInputIdleBatchMs: number;
  readonly bufferedWarnBytes: number;
  readonly slowConsumerBytes: number;
  readonly slowConsumerMs: number;
  readonly heartbeatMs: number;
  readonly maxCalls: number;

  readonly sessionSecret: string | undefined;
  readonly sessionTokenTtlMs: number;
  readonly allowedOrigins: readonly string[];
  /** Drain, admission and abuse limits, the admin listener (fleet-config.ts). */
  readonly fleet: FleetConfig;
  /** The standard OTEL_* environment (OTLP endpoints, protocol, service name). */
  readonly telemetry: TelemetrySettings;
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

/** Credentials of the other carriers; each unset means "not checked". */
export interface CarrierConfig {
  /** TELNYX_PUBLIC_KEY: base64 of the raw Ed25519 public key that signs TeXML webhooks. */
  readonly telnyxPublicKey: string | undefined;
  /** TELNYX_STREAM_TOKEN: the media stream's auth token (`x-telnyx-streaming-auth-token` on the upgrade). */
  readonly telnyxStreamToken: string | undefined;
  /** SIGNALWIRE_SIGNING_KEY: the project's signing key (X-SignalWire-Signature on cXML webhooks). */
  readonly signalwireSigningKey: string | undefined;
  /** SIGNALWIRE_STREAM_TOKEN: sent as the stream's `authBearerToken`, required as `Authorization: Bearer` on /signalwire/media. */
  readonly signalwireStreamToken: string | undefined;
  /** EXOTEL_BASIC_AUTH: `key:token` the Voicebot applet must present (Authorization: Basic) on /exotel/media. */
  readonly exotelBasicAuth: string | undefined;
  /** PLIVO_AUTH_TOKEN: when set, answer webhooks and stream upgrades must carry a valid X-Plivo-Signature-V3. */
  readonly plivoAuthToken: string | undefined;
  /** VONAGE_SIGNATURE_SECRET: when set, answer webhooks must carry a valid signed JWT and media upgrades a grant from the answer. */
  readonly vonageSignatureSecret: string | undefined;
  /** VONAGE_AUDIO_RATE: L16 sample rate asked of Vonage in the NCCO (8000 or 16000). */
  readonly vonageAudioRate: 8000 | 16000;
}

export const DEFAULT_TWILIO_API_URL = 'https://api.twilio.com';

export const DEFAULT_REALTIME_URL = 'wss://api.openai.com/v1/realtime';
export const DEFAULT_MODEL = 'gpt-realtime';
export const DEFAULT_GEMINI_LIVE_URL =
  'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
export const DEFAULT_GEMINI_MODEL = 'gemini-3.1-flash-live-preview';
export const DEFAULT_DEEPGRAM_AGENT_URL = 'wss://agent.deepgram.com/v1/agent/converse';
export const DEFAULT_ELEVENLABS_URL = 'wss://api.elevenlabs.io/v1/convai/conversation';

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

/**
 * `CREDIT_WINDOW_MS`: a fixed window (200–2000 ms), or `auto`: adaptive (400–1500 ms, see
 * flow/window-tuner.ts), starting at the default 800.
 */
function readCreditWindow(read: ConfigReader): Pick<GatewayConfig, 'creditWindowMs' | 'creditWindowAuto'> {
  const raw = read.string('CREDIT_WINDOW_MS');
  if (raw?.toLowerCase() === 'auto') return { creditWindowMs: 800, creditWindowAuto: true };
  if (raw !== undefined && !/^\d+$/.test(raw)) {
    read.problems.push(`CREDIT_WINDOW_MS=${JSON.stringify(raw)} is neither a whole number (200–2000) nor auto`);
    return { creditWindowMs: 800, creditWindowAuto: false };
  }
  return { creditWindowMs: read.int('CREDIT_WINDOW_MS', 800, 200, 2000), creditWindowAuto: false };
}

function readCarriers(read: ConfigReader): CarrierConfig {
  const telnyxPublicKey = read.string('TELNYX_PUBLIC_KEY');
  if (telnyxPublicKey !== undefined && telnyxPublicKey.length > 0 && telnyxPublicKeyObject(telnyxPublicKey) === undefined) {
    read.problems.push('TELNYX_PUBLIC_KEY must be the base64 of a 32-byte Ed25519 public key');
  }
  const exotelBasicAuth = read.string('EXOTEL_BASIC_AUTH');
  if (exotelBasicAuth !== undefined && !/^[^:]+:.+$/.test(exotelBasicAuth)) read.problems.push('EXOTEL_BASIC_AUTH must be key:token');
  return {
    telnyxPublicKey,
    telnyxStreamToken: read.string('TELNYX_STREAM_TOKEN'),
    signalwireSigningKey: read.string('SIGNALWIRE_SIGNING_KEY'),
    signalwireStreamToken: read.string('SIGNALWIRE_STREAM_TOKEN'),
    exotelBasicAuth,
    plivoAuthToken: read.string('PLIVO_AUTH_TOKEN'),
    vonageSignatureSecret: read.string('VONAGE_SIGNATURE_SECRET'),
    vonageAudioRate: Number(read.oneOf('VONAGE_AUDIO_RATE', ['16000', '8000'], '16000')) as 8000 | 16000,
  };
}

export type ConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Reads and validates the gateway's configuration; every problem is reported, not only the first. */
export function loadConfig(env: Env = process.env): ConfigResult {
  const read = new ConfigReader(env);
  const apiKey = read.string('OPENAI_API_KEY');
  const geminiKey = read.string('GEMINI_API_KEY');
  const deepgramKey = read.string('DEEPGRAM_API_KEY');
  const elevenKey = read.string('ELEVENLABS_API_KEY');
  const elevenAgent = read.string('ELEVENLABS_AGENT_ID');
  const keys: Record<(typeof AUTO_BACKEND_ORDER)[number], boolean> = {
    'openai-realtime': apiKey !== undefined,
    'gemini-live': geminiKey !== undefined,
    'deepgram-agent': deepgramKey !== undefined,
    'elevenlabs-agent': elevenKey !== undefined && elevenAgent !== undefined,
  };
  const backendRaw = read.oneOf('MODEL_BACKEND', ['openai-realtime', 'gemini-live', 'deepgram-agent', 'elevenlabs-agent', 'cascade', 'auto'], 'auto');
  const backend: ModelBackendName =
    backendRaw === 'auto' ? (AUTO_BACKEND_ORDER.find((name) => keys[name]) ?? 'cascade') : backendRaw;
  if (backend === 'openai-realtime' && !apiKey) {
    read.problems.push('MODEL_BACKEND=openai-realtime needs OPENAI_API_KEY');
  }
  if (backend === 'gemini-live' && !geminiKey) read.problems.push('MODEL_BACKEND=gemini-live needs GEMINI_API_KEY');
  if (backend === 'deepgram-agent' && !deepgramKey) read.problems.push('MODEL_BACKEND=deepgram-agent needs DEEPGRAM_API_KEY');
  if (backend === 'elevenlabs-agent' && !(elevenKey && elevenAgent)) {
    read.problems.push('MODEL_BACKEND=elevenlabs-agent needs ELEVENLABS_API_KEY and ELEVENLABS_AGENT_ID');
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
    instructionsSet: read.string('INSTRUCTIONS') !== undefined,
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
    gemini: {
      apiKey: geminiKey,
      url: read.url('GEMINI_LIVE_URL', ['wss:', 'ws:']) ?? DEFAULT_GEMINI_LIVE_URL,
      model: read.string('GEMINI_MODEL') ?? DEFAULT_GEMINI_MODEL,
      voice: read.string('VOICE'),
    },
    deepgram: {
      apiKey: deepgramKey,
      url: read.url('DEEPGRAM_AGENT_URL', ['wss:', 'ws:']) ?? DEFAULT_DEEPGRAM_AGENT_URL,
      listenModel: read.string('DEEPGRAM_LISTEN_MODEL') ?? 'nova-3',
      thinkProvider: read.string('DEEPGRAM_THINK_PROVIDER') ?? 'open_ai',
      thinkModel: read.string('DEEPGRAM_THINK_MODEL') ?? 'gpt-4o-mini',
      speakModel: read.string('DEEPGRAM_SPEAK_MODEL') ?? 'aura-2-thalia-en',
    },
    elevenlabs: {
      apiKey: elevenKey,
      agentId: elevenAgent,
      url: read.url('ELEVENLABS_URL', ['wss:', 'ws:']) ?? DEFAULT_ELEVENLABS_URL,
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
    carriers: readCarriers(read),
    ...readCreditWindow(read),
    maxQueuedAudioMs: read.int('MAX_QUEUED_AUDIO_MS', 120_000, 1_000, 600_000),
    startCushionMs: read.int('START_CUSHION_MS', DEFAULT_START_CUSHION_MS, 0, 1_000),
    startHoldMs: read.int('START_HOLD_MS', DEFAULT_START_HOLD_MS, 0, 500),
    localBargeInMs: read.int('LOCAL_BARGE_IN_MS', 0, 0, MAX_LOCAL_BARGE_IN_MS),
    localBargeInHoldMs: read.int('LOCAL_BARGE_IN_HOLD_MS', DEFAULT_LOCAL_BARGE_IN_HOLD_MS, MIN_LOCAL_BARGE_IN_HOLD_MS, MAX_LOCAL_BARGE_IN_HOLD_MS),
    callerQueueMs: read.int('CALLER_QUEUE_MS', 2_000, 100, 60_000),
    modelInputBatchMs: read.int('MODEL_INPUT_BATCH_MS', 100, 0, 200),
    modelInputIdleBatchMs: read.int('MODEL_INPUT_IDLE_BATCH_MS', 400, 0, 1_000),
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
    fleet: readFleetConfig(read),
    telemetry: readTelemetrySettings(env, read.problems),
    agent: readAgentConfig(read),
  };
  if (config.slowConsumerBytes < config.bufferedWarnBytes) {
    read.problems.push('SLOW_CONSUMER_BYTES must be ≥ BUFFERED_WARN_BYTES');
  }
  if (config.fleet.requireSignatures && config.twilioAuthToken === undefined) {
    read.problems.push('REQUIRE_SIGNATURES=true needs TWILIO_AUTH_TOKEN');
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
