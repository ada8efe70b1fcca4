/**
 * Assembles a gateway from configuration: picks the model backend and registers the features.
 * Tests call this with overrides (a fake model URL, a port of 0) to run the real thing on loopback.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { Gateway, type GatewayPlugin } from './gateway.js';
import { healthRoutes } from './routes/health.js';
import { twilioRoutes } from './routes/twilio.js';
import { browserRoutes } from './routes/browser.js';
import { staticRoutes } from './routes/static.js';
import { carrierRoutes } from './routes/carriers.js';
import type { ModelFactory } from '../models/model.js';
import { OpenAIRealtimeSession } from '../models/openai-realtime/client.js';
import { createCascadeFactory, type CascadeOptions } from '../models/cascade/factory.js';
import { OfflineTts } from '../models/cascade/tts-offline.js';
import { socketBridgedFactory } from './build-bridged.js';
import { createTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { GatewayMetrics } from './metrics.js';
import { agentServices, type EventsSinkBounds } from './agent-services.js';
import type { SetupCallFunction } from '../agent/setup.js';
import type { FunctionTool } from '../agent/tool-runner.js';
import type { CallEvent } from '../agent/events.js';

/** The library API's agent hooks: the setup webhook, tools and events as functions. */
export interface AgentHooks {
  /** Per-call setup (like CALL_SETUP_URL; its answer is validated the same way). */
  readonly setupCall?: SetupCallFunction;
  /** Tools run in this process, offered to every call whose setup names no tools. */
  readonly tools?: readonly FunctionTool[];
  /** Every call event, in order per call; must return quickly (it runs beside the audio). */
  readonly onEvent?: (event: CallEvent) => unknown;
}

export interface BuildOverrides extends AgentHooks {
  /** EVENTS_URL sender bounds (tests: small ones, to reach them quickly). */
  readonly eventsSink?: EventsSinkBounds;
  /** Replace the model backend entirely (tests). */
  readonly createModel?: ModelFactory;
  /** Extra cascade options (tests: a faster demo agent, a fake TTS). */
  readonly cascade?: Partial<CascadeOptions>;
  readonly plugins?: readonly GatewayPlugin[];
  /** Replace the telemetry built from OTEL_* (tests). */
  readonly telemetry?: Telemetry;
}

export function modelFactory(config: GatewayConfig, logger: Logger, overrides: BuildOverrides = {}): ModelFactory {
  if (overrides.createModel) return overrides.createModel;
  if (config.backend === 'openai-realtime') {
    const { openai } = config;
    const apiKey = openai.apiKey ?? '';
    const transcribeModel = config.agent.transcribeModel;
    return ({ callerFormat, callId, settings }) =>
      new OpenAIRealtimeSession({
        callerFormat,
        apiKey,
        url: openai.realtimeUrl,
        model: openai.model,
        voice: settings?.voice ?? openai.voice,
        instructions: settings?.instructions ?? openai.instructions,
        ...(settings?.tools ? { tools: settings.tools } : {}),
        ...(transcribeModel === undefined ? {} : { transcribeModel }),
        // 8 kHz callers use the configured wire (default μ-law): Twilio-style μ-law passes through
        // untouched, 8 kHz PCM16 (Exotel) is only G.711-transcoded — the carrier leg is 8 kHz telephone
        // audio anyway, and resampling to 24 kHz costs 3× the bytes and most of the CPU. Wider-band
        // callers (the browser) get the 24 kHz PCM wire.
        ...(callerFormat.sampleRate === 8000 ? { wireFormat: openai.audioFormat } : {}),
        ...(openai.authHeader ? { authHeader: openai.authHeader } : {}),
        inputQueueMs: config.callerQueueMs,
        inputBatchMs: config.modelInputBatchMs,
        inputIdleBatchMs: config.modelInputIdleBatchMs,
        maxBufferedBytes: config.bufferedWarnBytes,
        heartbeatMs: config.heartbeatMs,
        logger: logger.child({ callSid: callId, model: 'openai-realtime' }),
      });
  }
  const bridged = socketBridgedFactory(config, logger);
  if (bridged !== undefined) return bridged;
  const { cascade } = config;
  const tts = new OfflineTts();
  // The first sentences of a fresh engine are 10–30× slower (wasm tiering): pay that at start-up,
  // not on the first caller's greeting.
  tts.warmUp().then(
    () => logger.info({ tts: tts.name }, 'offline TTS ready'),
    (err: unknown) => logger.warn({ err }, 'offline TTS warm-up failed; it will load on first use'),
  );
  return createCascadeFactory({
    sttUrl: cascade.sttUrl,
    sttModel: cascade.sttModel,
    sttApiKey: cascade.sttApiKey,
    llmUrl: cascade.llmUrl,
    llmModel: cascade.llmModel,
    llmApiKey: cascade.llmApiKey,
    instructions: config.openai.instructions,
    ttsUrl: cascade.ttsUrl,
    ttsModel: cascade.ttsModel,
    ttsVoice: cascade.ttsVoice,
    ttsApiKey: cascade.ttsApiKey,
    stageTimeoutMs: cascade.stageTimeoutMs,
    logger,
    tts,
    ...overrides.cascade,
  });
}

/**
 * The gateway for `config`. `overrides` also carries the library API's agent hooks
 * (`setupCall`, `tools`, `onEvent`), which work beside (or instead of) CALL_SETUP_URL, TOOLS_FILE
 * and EVENTS_URL.
 */
export async function buildGateway(config: GatewayConfig, logger: Logger, overrides: BuildOverrides = {}): Promise<Gateway> {
  const createModel = modelFactory(config, logger, overrides);
  const metrics = new GatewayMetrics();
  const agent = agentServices(config, logger, metrics, overrides);
  return new Gateway({
    config,
    logger,
    createModel,
    telemetry: overrides.telemetry ?? createTelemetry(config.telemetry),
    metrics,
    ...(agent ? { agent } : {}),
    plugins: [healthRoutes, twilioRoutes, browserRoutes, ...carrierRoutes, staticRoutes, ...(overrides.plugins ?? [])],
  });
}
