/**
 * voicewire as a library: the flow primitives, the audio helpers, the transports and model
 * backends, one call's session, and the gateway itself. The browser SDK is `voicewire/client`.
 */
export * from './flow/index.js';
export * from './audio/format.js';
export { decodeMulaw, encodeMulaw, mulawDecodeSample, mulawEncodeSample } from './audio/mulaw.js';
export { StreamingResampler } from './audio/resampler.js';
export { EnergyVad } from './audio/vad.js';
export type { VadEvent, VadOptions } from './audio/vad.js';
export { ERRORS, VoicewireError, isVoicewireError, vwError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { CallerTransport, CallStart, OutboundAudio, TransportEvents } from './transports/transport.js';
export { TwilioTransport } from './transports/twilio/adapter.js';
export { MediaStreamTransport } from './transports/media-stream/adapter.js';
export type { MediaStreamDialect } from './transports/media-stream/dialect.js';
export { TelnyxTransport } from './transports/telnyx/adapter.js';
export { SignalWireTransport } from './transports/signalwire/adapter.js';
export { ExotelTransport } from './transports/exotel/adapter.js';
export { BrowserTransport } from './transports/browser/adapter.js';
export type { ModelAudio, ModelCallSettings, ModelEvents, ModelFactory, ModelSession, ModelToolCall, ToolDefinition } from './models/model.js';
export { OpenAIRealtimeSession } from './models/openai-realtime/client.js';
export { createCascadeFactory } from './models/cascade/factory.js';
export { OfflineTts } from './models/cascade/tts-offline.js';
export { CallSession } from './session/call-session.js';
export type { CallSessionOptions } from './session/call-session.js';
export type { SessionObserver, SessionSample } from './session/observer.js';
export { loadConfig } from './server/config.js';
export type { GatewayConfig } from './server/config.js';
export { buildGateway } from './server/build.js';
export type { AgentHooks, BuildOverrides } from './server/build.js';
export type { CallSetup, CallSetupRequest, HttpTool } from './agent/call-setup.js';
export type { FunctionTool, ToolContext } from './agent/tool-runner.js';
export type { CallEvent, CallEventFields, CallEventOf, CallEventType } from './agent/events.js';
export { Gateway } from './server/gateway.js';
