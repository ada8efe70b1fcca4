/**
 * The fake's session: the effective configuration and the GA validation of `session.update`,
 * answering beta-shaped updates the way the real API does (protocols.md §4: missing
 * `session.type` → missing_required_parameter; beta fields such as `session.voice` →
 * unknown_parameter). Messages copied from real answers where known.
 */
import type { FakeWireFormat } from './realtime-server-audio.js';

export interface FakeApiError {
  type: string;
  code: string | null;
  message: string;
  param: string | null;
}

export interface FakeTurnDetection {
  type: 'server_vad' | 'semantic_vad';
  threshold?: number;
  prefix_padding_ms: number;
  silence_duration_ms: number;
  create_response: boolean;
  interrupt_response: boolean;
  [key: string]: unknown;
}

/** The effective session, as `session.created` / `session.updated` report it. */
export interface FakeSession {
  type: 'realtime';
  object: 'realtime.session';
  id: string;
  model: string;
  output_modalities: string[];
  instructions: string;
  audio: {
    input: { format: Record<string, unknown>; turn_detection: FakeTurnDetection | null; [key: string]: unknown };
    output: { format: Record<string, unknown>; voice: string; speed: number; [key: string]: unknown };
  };
  [key: string]: unknown;
}

/** GA top-level session fields the fake accepts (others are unknown_parameter). */
const KNOWN_FIELDS = new Set([
  'type', 'model', 'instructions', 'output_modalities', 'audio', 'tools', 'tool_choice', 'max_output_tokens',
  'tracing', 'truncation', 'prompt', 'include', 'object', 'id', 'expires_at',
]);
const FORMAT_TYPES = new Set(['audio/pcm', 'audio/pcmu', 'audio/pcma']);

export function defaultSession(id: string, model: string): FakeSession {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: '',
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        turn_detection: {
          type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500,
          create_response: true, interrupt_response: true,
        },
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(type: string, code: string | null, message: string, param: string | null): FakeApiError {
  return { type, code, message, param };
}

function checkFormat(value: unknown, param: string): FakeApiError | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value.type !== 'string' || !FORMAT_TYPES.has(value.type)) {
    return invalid('invalid_request_error', 'invalid_value', `Invalid value for '${param}.type'.`, `${param}.type`);
  }
  if (value.type === 'audio/pcm' && value.rate !== undefined && value.rate !== 24000) {
    return invalid('invalid_request_error', 'invalid_value', `Invalid value: ${JSON.stringify(value.rate)}. Supported values are: 24000.`, `${param}.rate`);
  }
  return undefined;
}

function checkTurnDetection(value: unknown): FakeApiError | undefined {
  if (value === undefined || value === null) return undefined;
  const param = 'session.audio.input.turn_detection';
  if (!isRecord(value)) return invalid('invalid_request_error', 'invalid_type', `Invalid type for '${param}'.`, param);
  if (value.type !== 'server_vad' && value.type !== 'semantic_vad') {
    return invalid('invalid_request_error', 'invalid_value', `Invalid value for '${param}.type'.`, `${param}.type`);
  }
  return undefined;
}

/** GA `tools` (function tools: `type`, `name`, optional `description` and JSON Schema `parameters`) and `tool_choice`. */
function checkTools(tools: unknown, choice: unknown): FakeApiError | undefined {
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return invalid('invalid_request_error', 'invalid_type', "Invalid type for 'session.tools': expected an array.", 'session.tools');
    for (const [i, tool] of tools.entries()) {
      const param = `session.tools[${i}]`;
      if (!isRecord(tool) || tool.type !== 'function') return invalid('invalid_request_error', 'invalid_value', `Invalid value for '${param}.type'.`, `${param}.type`);
      if (typeof tool.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(tool.name)) return invalid('invalid_request_error', 'invalid_value', `Invalid value for '${param}.name'.`, `${param}.name`);
      if (tool.description !== undefined && typeof tool.description !== 'string') return invalid('invalid_request_error', 'invalid_type', `Invalid type for '${param}.description'.`, `${param}.description`);
      if (tool.parameters !== undefined && !isRecord(tool.parameters)) return invalid('invalid_request_error', 'invalid_type', `Invalid type for '${param}.parameters'.`, `${param}.parameters`);
    }
  }
  if (choice !== undefined && choice !== 'auto' && choice !== 'none' && choice !== 'required' && !isRecord(choice)) {
    return invalid('invalid_request_error', 'invalid_value', "Invalid value for 'session.tool_choice'.", 'session.tool_choice');
  }
  return undefined;
}

/** GA `audio.input.transcription`: `{ model, … }` or null (off). */
function checkTranscription(value: unknown): FakeApiError | undefined {
  if (value === undefined || value === null) return undefined;
  const param = 'session.audio.input.transcription';
  if (!isRecord(value) || (value.model !== undefined && typeof value.model !== 'string')) return invalid('invalid_request_error', 'invalid_type', `Invalid type for '${param}'.`, param);
  return undefined;
}

/** Validates a `session.update`'s `session` in GA shape; undefined when it is acceptable. */
export function validateSessionUpdate(session: unknown): FakeApiError | undefined {
  if (!isRecord(session)) {
    return invalid('invalid_request_error', 'missing_required_parameter', "Missing required parameter: 'session'.", 'session');
  }
  if (session.type === undefined) {
    return invalid('invalid_request_error', 'missing_required_parameter', "Missing required parameter: 'session.type'.", 'session.type');
  }
  if (session.type !== 'realtime') {
    return invalid('invalid_request_error', 'invalid_value', "Invalid value for 'session.type' (the fake speaks 'realtime' only).", 'session.type');
  }
  for (const key of Object.keys(session)) {
    if (!KNOWN_FIELDS.has(key)) {
      return invalid('invalid_request_error', 'unknown_parameter', `Unknown parameter: 'session.${key}'.`, `session.${key}`);
    }
  }
  const modalities = session.output_modalities;
  if (modalities !== undefined && !(Array.isArray(modalities) && modalities.length === 1 && (modalities[0] === 'audio' || modalities[0] === 'text'))) {
    return invalid('invalid_request_error', 'invalid_value', "Invalid value for 'session.output_modalities'.", 'session.output_modalities');
  }
  const tools = checkTools(session.tools, session.tool_choice);
  if (tools !== undefined) return tools;
  const audio = session.audio;
  if (audio === undefined) return undefined;
  if (!isRecord(audio)) return invalid('invalid_request_error', 'invalid_type', "Invalid type for 'session.audio'.", 'session.audio');
  const input = audio.input;
  const output = audio.output;
  if (input !== undefined) {
    if (!isRecord(input)) return invalid('invalid_request_error', 'invalid_type', "Invalid type for 'session.audio.input'.", 'session.audio.input');
    const bad = checkFormat(input.format, 'session.audio.input.format') ?? checkTurnDetection(input.turn_detection) ?? checkTranscription(input.transcription);
    if (bad !== undefined) return bad;
  }
  if (output !== undefined) {
    if (!isRecord(output)) return invalid('invalid_request_error', 'invalid_type', "Invalid type for 'session.audio.output'.", 'session.audio.output');
    const bad = checkFormat(output.format, 'session.audio.output.format');
    if (bad !== undefined) return bad;
    if (output.voice !== undefined && typeof output.voice !== 'string') {
      return invalid('invalid_request_error', 'invalid_type', "Invalid type for 'session.audio.output.voice'.", 'session.audio.output.voice');
    }
  }
  return undefined;
}

/** Applies a validated update: only fields present change (`turn_detection: null` disables VAD). */
export function applySessionUpdate(current: FakeSession, update: Record<string, unknown>): FakeSession {
  const next: FakeSession = structuredClone(current);
  for (const [key, value] of Object.entries(update)) {
    if (key === 'audio' && isRecord(value)) continue;
    next[key] = structuredClone(value);
  }
  const audio = update.audio;
  if (isRecord(audio)) {
    if (isRecord(audio.input)) Object.assign(next.audio.input, structuredClone(audio.input));
    if (isRecord(audio.output)) Object.assign(next.audio.output, structuredClone(audio.output));
  }
  return next;
}

/** The fake's audio format for a session format object (pcma is accepted but treated as pcmu). */
export function wireFormatOf(format: Record<string, unknown>): FakeWireFormat {
  return format.type === 'audio/pcm' ? 'pcm24k' : 'pcmu';
}
