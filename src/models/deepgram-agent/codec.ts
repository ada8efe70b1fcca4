/**
 * Pure codec for Deepgram's Voice Agent API v1 (`wss://agent.deepgram.com/v1/agent/converse`):
 * JSON text ⇄ typed events, no I/O. Audio travels as binary frames both ways and never passes
 * through here. Message names and fields from https://developers.deepgram.com/docs/voice-agent-message-flow,
 * /docs/configure-voice-agent, /docs/voice-agent-user-started-speaking, /docs/voice-agent-inject-agent-message,
 * /docs/voice-agent-update-prompt and the v1 AsyncAPI reference /reference/voice-agent/voice-agent.
 * Parsing never throws: malformed input is a coded error result.
 */
import { vwError } from '../../errors.js';
import type { ToolDefinition } from '../model.js';
import {
  BadField, guard, isObject, optionalArray, optionalNumber, optionalString, parseObject, requiredString, type ParseResult,
} from '../shared/json-fields.js';

export const MAX_MESSAGE_CHARS = 1024 * 1024;

export type DeepgramServerEvent =
  | { readonly kind: 'welcome'; readonly requestId: string | undefined }
  | { readonly kind: 'settings-applied' }
  | { readonly kind: 'conversation-text'; readonly role: 'user' | 'assistant'; readonly content: string }
  | { readonly kind: 'user-started-speaking' }
  | { readonly kind: 'agent-thinking'; readonly content: string | undefined }
  | { readonly kind: 'agent-started-speaking'; readonly totalLatency: number | undefined }
  | { readonly kind: 'agent-audio-done' }
  | { readonly kind: 'prompt-updated' }
  | { readonly kind: 'injection-refused'; readonly message: string | undefined }
  | { readonly kind: 'function-call-request'; readonly functions: readonly DeepgramFunctionCall[] }
  | { readonly kind: 'acknowledged'; readonly type: string }
  | { readonly kind: 'error'; readonly code: string; readonly description: string }
  | { readonly kind: 'warning'; readonly code: string; readonly description: string };

export interface DeepgramFunctionCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
  readonly clientSide: boolean;
}

/** Acknowledgements and notices that need no action (logged at debug). */
const ACKNOWLEDGEMENTS: ReadonlySet<string> = new Set(['SpeakUpdated', 'ThinkUpdated', 'ListenUpdated', 'History']);

/** Every server message type the codec understands. */
export const SERVER_MESSAGE_TYPES = [
  'Welcome', 'SettingsApplied', 'ConversationText', 'UserStartedSpeaking', 'AgentThinking', 'AgentStartedSpeaking',
  'AgentAudioDone', 'PromptUpdated', 'InjectionRefused', 'FunctionCallRequest', 'Error', 'Warning', ...ACKNOWLEDGEMENTS,
] as const;

export function parseDeepgramMessage(text: string): ParseResult<DeepgramServerEvent> {
  const parsed = parseObject(text, MAX_MESSAGE_CHARS);
  if (!parsed.ok) return parsed;
  const message = parsed.value;
  const type = message.type;
  if (typeof type !== 'string') return { ok: false, error: vwError('VW_ERR_BAD_FIELD', 'type'), field: 'type' };
  return guard((): DeepgramServerEvent[] => {
    switch (type) {
      case 'Welcome':
        return [{ kind: 'welcome', requestId: optionalString(message, 'request_id', 'request_id', 256) }];
      case 'SettingsApplied':
        return [{ kind: 'settings-applied' }];
      case 'ConversationText': {
        const role = requiredString(message, 'role', 'role', 32);
        if (role !== 'user' && role !== 'assistant') throw new BadField('role');
        return [{ kind: 'conversation-text', role, content: requiredString(message, 'content', 'content') }];
      }
      case 'UserStartedSpeaking':
        return [{ kind: 'user-started-speaking' }];
      case 'AgentThinking':
        return [{ kind: 'agent-thinking', content: optionalString(message, 'content', 'content') }];
      case 'AgentStartedSpeaking':
        return [{ kind: 'agent-started-speaking', totalLatency: optionalNumber(message, 'total_latency', 'total_latency') }];
      case 'AgentAudioDone':
        return [{ kind: 'agent-audio-done' }];
      case 'PromptUpdated':
        return [{ kind: 'prompt-updated' }];
      case 'InjectionRefused':
        return [{ kind: 'injection-refused', message: optionalString(message, 'message', 'message') }];
      case 'FunctionCallRequest':
        return [{ kind: 'function-call-request', functions: functionCalls(optionalArray(message, 'functions', 'functions') ?? []) }];
      case 'Error':
      case 'Warning':
        return [{
          kind: type === 'Error' ? 'error' : 'warning',
          code: optionalString(message, 'code', 'code', 128) ?? 'unknown',
          description: optionalString(message, 'description', 'description', 4096) ?? optionalString(message, 'message', 'message', 4096) ?? '',
        }];
      default:
        if (ACKNOWLEDGEMENTS.has(type)) return [{ kind: 'acknowledged', type }];
        throw new BadField('type', vwError('VW_ERR_UNKNOWN_EVENT', type.slice(0, 64)));
    }
  });
}

function functionCalls(list: unknown[]): DeepgramFunctionCall[] {
  return list.map((call, i) => {
    const path = `functions[${i}]`;
    if (!isObject(call)) throw new BadField(path);
    return {
      id: requiredString(call, 'id', `${path}.id`, 256),
      name: requiredString(call, 'name', `${path}.name`, 256),
      arguments: optionalString(call, 'arguments', `${path}.arguments`) ?? '{}',
      clientSide: call.client_side === true,
    };
  });
}

// --- client messages ---

export type DeepgramEncoding = 'mulaw' | 'linear16';

export interface DeepgramSettings {
  readonly encoding: DeepgramEncoding;
  readonly sampleRate: number;
  readonly listenModel: string;
  readonly thinkProvider: string;
  readonly thinkModel: string;
  readonly speakModel: string;
  readonly prompt: string | undefined;
  readonly greeting: string | undefined;
  /** Client-side functions (`agent.think.functions`); none when empty. */
  readonly functions?: readonly ToolDefinition[];
}

/** `Settings`: the same encoding both ways, raw (no container), so μ-law callers pass through. */
export function buildSettings(s: DeepgramSettings): string {
  return JSON.stringify({
    type: 'Settings',
    audio: {
      input: { encoding: s.encoding, sample_rate: s.sampleRate },
      output: { encoding: s.encoding, sample_rate: s.sampleRate, container: 'none' },
    },
    agent: {
      language: 'en',
      listen: { provider: { type: 'deepgram', model: s.listenModel } },
      think: {
        provider: { type: s.thinkProvider, model: s.thinkModel },
        ...(s.prompt === undefined ? {} : { prompt: s.prompt }),
        // No `endpoint`: the functions are client-side (FunctionCallRequest with client_side true).
        ...(s.functions === undefined || s.functions.length === 0 ? {} : {
          functions: s.functions.map((f) => ({ name: f.name, description: f.description, parameters: f.parameters })),
        }),
      },
      speak: { provider: { type: 'deepgram', model: s.speakModel } },
      ...(s.greeting === undefined ? {} : { greeting: s.greeting }),
    },
  });
}

/** The result of a client-side function: `FunctionCallResponse {id, name, content}`. */
export function buildFunctionCallResponse(id: string, name: string, content: string): string {
  return JSON.stringify({ type: 'FunctionCallResponse', id, name, content });
}

export const KEEP_ALIVE = JSON.stringify({ type: 'KeepAlive' });

/** `UpdatePrompt` adds to (does not replace) the agent's prompt. */
export function buildUpdatePrompt(prompt: string): string {
  return JSON.stringify({ type: 'UpdatePrompt', prompt });
}

export function buildInjectAgentMessage(message: string): string {
  return JSON.stringify({ type: 'InjectAgentMessage', message });
}
