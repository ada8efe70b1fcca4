/**
 * Options of the OpenAI Realtime backend: defaults, validation (VW_ERR_CONFIG) and the connect
 * request (URL and auth header). Kept apart from the client so the rules are testable without I/O.
 */
import WebSocket from 'ws';
import { isSameFormat, PCM16_24K, TWILIO_FORMAT, type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import type { ToolDefinition } from '../model.js';
import { DEFAULT_TURN_DETECTION, type ServerVadTurnDetection, type WireFormat } from './protocol.js';
import { SILENT_LOGGER, inputBatchMsOf, inputIdleBatchMsOf, type LinkOptions, type LoggerLike, type WebSocketConstructor } from '../shared/options.js';

export { SILENT_LOGGER, type LoggerLike, type WebSocketConstructor };

/** How the API key is sent: OpenAI `Authorization: Bearer`, or Azure's `api-key` header. */
export type AuthHeader = 'bearer' | 'api-key';

/**
 * The Realtime backend's own settings, plus the bounds, deadlines and reconnect policy every
 * socket-bridged backend shares (LinkOptions; here the connect deadline also covers
 * `session.updated`).
 */
export interface OpenAIRealtimeOptions extends LinkOptions {
  /** Caller audio format; model audio is delivered in it and caller audio is accepted in it. */
  readonly callerFormat: AudioFormat;
  readonly apiKey: string;
  /** Default `wss://api.openai.com/v1/realtime?model=<model>`. Azure, proxies and fakes work too. */
  readonly url?: string;
  /** Default: 'api-key' when the URL host ends with `.openai.azure.com`, else 'bearer'. */
  readonly authHeader?: AuthHeader;
  /** Default 'gpt-realtime'. Only used to build the default URL. */
  readonly model?: string;
  /** Default 'marin'. Fixed by the API after the first audio output. */
  readonly voice?: string;
  readonly instructions?: string;
  /** Functions the model may call; none by default. */
  readonly tools?: readonly ToolDefinition[];
  /** Transcribe the caller's audio with this model (e.g. `gpt-4o-mini-transcribe`); off by default. */
  readonly transcribeModel?: string;
  /** Default: 'pcmu' when the caller is μ-law 8 kHz (no conversion at all), else 'pcm24k'. */
  readonly wireFormat?: WireFormat;
  /** Overrides of the server VAD settings (defaults: the API's, with create/interrupt_response on). */
  readonly turnDetection?: Partial<Omit<ServerVadTurnDetection, 'type'>>;
}

export interface ResolvedOptions {
  readonly callerFormat: AudioFormat;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly voice: string;
  readonly instructions: string | undefined;
  readonly tools: readonly ToolDefinition[];
  readonly transcribeModel: string | undefined;
  readonly wireFormat: WireFormat;
  readonly turnDetection: ServerVadTurnDetection;
  readonly logger: LoggerLike;
  readonly reconnectAttempts: number;
  readonly reconnectBackoffMs: number;
  readonly inputQueueMs: number;
  readonly inputBatchMs: number;
  readonly inputIdleBatchMs: number;
  readonly maxBufferedBytes: number;
  readonly connectTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly missedPongsLimit: number;
  readonly maxPayload: number;
  readonly WebSocketImpl: WebSocketConstructor;
}

export const DEFAULTS = {
  model: 'gpt-realtime',
  voice: 'marin',
  reconnectAttempts: 1,
  reconnectBackoffMs: 500,
  inputQueueMs: 2000,
  maxBufferedBytes: 256 * 1024,
  connectTimeoutMs: 10_000,
  heartbeatMs: 10_000,
  missedPongsLimit: 2,
  maxPayload: 16 * 1024 * 1024,
} as const;


export function defaultUrl(model: string): string {
  return `wss://api.openai.com/v1/realtime?model=${encodeURIComponent(model)}`;
}

/**
 * Azure hosts that take the key in an `api-key` header: Azure OpenAI (`<resource>.openai.azure.com`)
 * and Voice Live on a Foundry resource (`<resource>.services.ai.azure.com`) or an older Speech /
 * AI Services resource (`<resource>.cognitiveservices.azure.com`), per
 * https://learn.microsoft.com/azure/ai-services/speech-service/voice-live-how-to ("WebSocket endpoint").
 */
const API_KEY_HOST_SUFFIXES = ['.openai.azure.com', '.services.ai.azure.com', '.cognitiveservices.azure.com'] as const;

export function pickAuthHeader(url: string): AuthHeader {
  const host = new URL(url).hostname.toLowerCase();
  return API_KEY_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix)) ? 'api-key' : 'bearer';
}

/** Headers for the upgrade request. No `OpenAI-Beta`: the beta shape is disabled server-side. */
export function authHeaders(apiKey: string, authHeader: AuthHeader): Record<string, string> {
  return authHeader === 'api-key' ? { 'api-key': apiKey } : { Authorization: `Bearer ${apiKey}` };
}

/** The voicewire AudioFormat of a wire format (μ-law 8 kHz or PCM16 24 kHz). */
export function audioFormatOfWire(format: WireFormat): AudioFormat {
  return format === 'pcmu' ? TWILIO_FORMAT : PCM16_24K;
}

export function defaultWireFormat(callerFormat: AudioFormat): WireFormat {
  return isSameFormat(callerFormat, TWILIO_FORMAT) ? 'pcmu' : 'pcm24k';
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw vwError('VW_ERR_CONFIG', `${name} must be a finite number ${allowZero ? '>= 0' : '> 0'} (got ${value})`);
  }
  return value;
}

/** Applies defaults and checks every bound is finite; throws VW_ERR_CONFIG on a bad value. */
export function resolveOptions(options: OpenAIRealtimeOptions): ResolvedOptions {
  if (options.apiKey === '') throw vwError('VW_ERR_CONFIG', 'apiKey is empty');
  const url = options.url ?? defaultUrl(options.model ?? DEFAULTS.model);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw vwError('VW_ERR_CONFIG', `url ${url} is not a URL`);
  }
  if (protocol !== 'wss:' && protocol !== 'ws:') throw vwError('VW_ERR_CONFIG', `url ${url} is not ws(s)`);
  const authHeader = options.authHeader ?? pickAuthHeader(url);
  const reconnect = options.reconnect ?? {};
  return {
    callerFormat: options.callerFormat,
    url,
    headers: authHeaders(options.apiKey, authHeader),
    voice: options.voice ?? DEFAULTS.voice,
    instructions: options.instructions,
    tools: options.tools ?? [],
    transcribeModel: options.transcribeModel,
    wireFormat: options.wireFormat ?? defaultWireFormat(options.callerFormat),
    turnDetection: { ...DEFAULT_TURN_DETECTION, ...options.turnDetection, type: 'server_vad' },
    logger: options.logger ?? SILENT_LOGGER,
    reconnectAttempts: positive('reconnect.attempts', reconnect.attempts ?? DEFAULTS.reconnectAttempts, true),
    reconnectBackoffMs: positive('reconnect.backoffMs', reconnect.backoffMs ?? DEFAULTS.reconnectBackoffMs, true),
    inputQueueMs: positive('inputQueueMs', options.inputQueueMs ?? DEFAULTS.inputQueueMs),
    inputBatchMs: inputBatchMsOf(options.inputBatchMs),
    inputIdleBatchMs: inputIdleBatchMsOf(options.inputIdleBatchMs),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes, true),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs),
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs ?? DEFAULTS.heartbeatMs, true),
    missedPongsLimit: positive('missedPongsLimit', options.missedPongsLimit ?? DEFAULTS.missedPongsLimit),
    maxPayload: positive('maxPayload', options.maxPayload ?? DEFAULTS.maxPayload),
    WebSocketImpl: options.WebSocketImpl ?? WebSocket,
  };
}
