/**
 * Pure codec for the ElevenLabs Agents WebSocket (`/v1/convai/conversation?agent_id=…`): JSON ⇄
 * typed events, no I/O. Message shapes from the Agents WebSocket reference
 * (https://elevenlabs.io/docs/agents-platform/api-reference/agents-platform/websocket) and the
 * client events page (https://elevenlabs.io/docs/conversational-ai/customization/events/client-events).
 * Parsing never throws: malformed input is a coded error result.
 */
import { encodeBase64 } from '../../audio/base64.js';
import { vwError } from '../../errors.js';
import {
  BadField, base64At, guard, optionalNumber, optionalObject, optionalString, parseObject, requiredInteger, requiredObject,
  requiredString, type Json, type ParseResult,
} from '../shared/json-fields.js';

export const MAX_MESSAGE_CHARS = 1024 * 1024;
/** Largest audio chunk accepted, bytes (10 s of 24 kHz PCM16). */
export const MAX_AUDIO_BYTES = 480_000;

export type ElevenServerEvent =
  | { readonly kind: 'initiation-metadata'; readonly conversationId: string; readonly outputFormat: string; readonly inputFormat: string }
  | { readonly kind: 'audio'; readonly bytes: Uint8Array; readonly eventId: number }
  | { readonly kind: 'interruption'; readonly eventId: number }
  | { readonly kind: 'ping'; readonly eventId: number; readonly pingMs: number | undefined }
  | { readonly kind: 'agent-response'; readonly text: string }
  | { readonly kind: 'agent-response-correction'; readonly original: string; readonly corrected: string }
  | { readonly kind: 'user-transcript'; readonly text: string }
  | { readonly kind: 'vad-score'; readonly score: number }
  | { readonly kind: 'client-tool-call'; readonly toolName: string; readonly toolCallId: string; readonly parameters: Json }
  | { readonly kind: 'tentative-agent-response'; readonly text: string }
  | { readonly kind: 'notice'; readonly type: string };

/** Informational messages that need no action. */
const NOTICES: ReadonlySet<string> = new Set(['agent_tool_response', 'mcp_tool_call', 'mcp_connection_status', 'agent_chat_response_part']);

export const SERVER_MESSAGE_TYPES = [
  'conversation_initiation_metadata', 'audio', 'interruption', 'ping', 'agent_response', 'agent_response_correction',
  'user_transcript', 'vad_score', 'client_tool_call', 'internal_tentative_agent_response', ...NOTICES,
] as const;

export function parseElevenMessage(text: string): ParseResult<ElevenServerEvent> {
  const parsed = parseObject(text, MAX_MESSAGE_CHARS);
  if (!parsed.ok) return parsed;
  const message = parsed.value;
  const type = message.type;
  if (typeof type !== 'string') return { ok: false, error: vwError('VW_ERR_BAD_FIELD', 'type'), field: 'type' };
  return guard((): ElevenServerEvent[] => {
    switch (type) {
      case 'conversation_initiation_metadata': {
        const e = requiredObject(message, 'conversation_initiation_metadata_event', 'conversation_initiation_metadata_event');
        const p = 'conversation_initiation_metadata_event';
        return [{
          kind: 'initiation-metadata',
          conversationId: requiredString(e, 'conversation_id', `${p}.conversation_id`, 256),
          outputFormat: requiredString(e, 'agent_output_audio_format', `${p}.agent_output_audio_format`, 64),
          inputFormat: requiredString(e, 'user_input_audio_format', `${p}.user_input_audio_format`, 64),
        }];
      }
      case 'audio': {
        const e = requiredObject(message, 'audio_event', 'audio_event');
        return [{ kind: 'audio', bytes: base64At(e, 'audio_base_64', 'audio_event.audio_base_64', MAX_AUDIO_BYTES), eventId: requiredInteger(e, 'event_id', 'audio_event.event_id') }];
      }
      case 'interruption': {
        const e = requiredObject(message, 'interruption_event', 'interruption_event');
        return [{ kind: 'interruption', eventId: requiredInteger(e, 'event_id', 'interruption_event.event_id') }];
      }
      case 'ping': {
        const e = requiredObject(message, 'ping_event', 'ping_event');
        return [{ kind: 'ping', eventId: requiredInteger(e, 'event_id', 'ping_event.event_id'), pingMs: optionalNumber(e, 'ping_ms', 'ping_event.ping_ms') }];
      }
      case 'agent_response': {
        const e = requiredObject(message, 'agent_response_event', 'agent_response_event');
        return [{ kind: 'agent-response', text: requiredString(e, 'agent_response', 'agent_response_event.agent_response') }];
      }
      case 'agent_response_correction': {
        const e = requiredObject(message, 'agent_response_correction_event', 'agent_response_correction_event');
        const p = 'agent_response_correction_event';
        return [{
          kind: 'agent-response-correction',
          original: requiredString(e, 'original_agent_response', `${p}.original_agent_response`),
          corrected: requiredString(e, 'corrected_agent_response', `${p}.corrected_agent_response`),
        }];
      }
      case 'user_transcript': {
        const e = requiredObject(message, 'user_transcription_event', 'user_transcription_event');
        return [{ kind: 'user-transcript', text: requiredString(e, 'user_transcript', 'user_transcription_event.user_transcript') }];
      }
      case 'vad_score': {
        const e = requiredObject(message, 'vad_score_event', 'vad_score_event');
        const score = optionalNumber(e, 'vad_score', 'vad_score_event.vad_score');
        if (score === undefined) throw new BadField('vad_score_event.vad_score');
        return [{ kind: 'vad-score', score }];
      }
      case 'client_tool_call': {
        const e = requiredObject(message, 'client_tool_call', 'client_tool_call');
        return [{
          kind: 'client-tool-call',
          toolName: requiredString(e, 'tool_name', 'client_tool_call.tool_name', 256),
          toolCallId: requiredString(e, 'tool_call_id', 'client_tool_call.tool_call_id', 256),
          parameters: optionalObject(e, 'parameters', 'client_tool_call.parameters') ?? {},
        }];
      }
      case 'internal_tentative_agent_response': {
        const e = requiredObject(message, 'tentative_agent_response_internal_event', 'tentative_agent_response_internal_event');
        return [{ kind: 'tentative-agent-response', text: optionalString(e, 'tentative_agent_response', 'tentative_agent_response_internal_event.tentative_agent_response') ?? '' }];
      }
      default:
        if (NOTICES.has(type)) return [{ kind: 'notice', type }];
        throw new BadField('type', vwError('VW_ERR_UNKNOWN_EVENT', type.slice(0, 64)));
    }
  });
}

// --- client messages ---

export interface InitiationSettings {
  /** Prompt override (the agent must allow prompt overrides in its security settings). */
  readonly prompt: string | undefined;
}

export function buildInitiation(settings: InitiationSettings): string {
  return JSON.stringify({
    type: 'conversation_initiation_client_data',
    conversation_config_override: settings.prompt === undefined ? {} : { agent: { prompt: { prompt: settings.prompt } } },
  });
}

/** Caller audio: a bare `user_audio_chunk` (no `type` field: that is the wire contract). */
export function buildUserAudio(bytes: Uint8Array): string {
  return JSON.stringify({ user_audio_chunk: encodeBase64(bytes) });
}

export function buildPong(eventId: number): string {
  return JSON.stringify({ type: 'pong', event_id: eventId });
}

/** Background information that does not interrupt the agent. */
export function buildContextualUpdate(text: string): string {
  return JSON.stringify({ type: 'contextual_update', text });
}

/** The answer to a client tool call (an error result lets the agent go on instead of waiting). */
export function buildClientToolResult(toolCallId: string, result: string, isError: boolean): string {
  return JSON.stringify({ type: 'client_tool_result', tool_call_id: toolCallId, result, is_error: isError });
}

/** `ulaw_8000` → μ-law 8 kHz; `pcm_16000` → PCM16 16 kHz; undefined for formats voicewire cannot resample. */
export function formatOf(name: string): { encoding: 'pcmu' | 'pcm16'; sampleRate: 8000 | 16000 | 24000 } | undefined {
  if (name === 'ulaw_8000') return { encoding: 'pcmu', sampleRate: 8000 };
  const match = /^pcm_(8000|16000|24000)$/.exec(name);
  return match === null ? undefined : { encoding: 'pcm16', sampleRate: Number(match[1]) as 8000 | 16000 | 24000 };
}
