/**
 * Pure codec for the OpenAI Realtime API (GA) over WebSocket: JSON text ⇄ typed events, no I/O.
 *
 * Server events are validated against one table (`SERVER_EVENT_FIELDS`) from which their TypeScript
 * types are derived, so the checks and the types cannot drift apart. A malformed message becomes a
 * coded error (`VW_ERR_BAD_JSON`, `VW_ERR_BAD_FIELD`) and the connection lives on; a well-formed
 * event of a type we do not know is reported as `unknown`, because the API adds events over time.
 * Field names stay as on the wire (snake_case) so fixtures, logs and the API reference read alike.
 */
import { vwError, type VoicewireError } from '../../errors.js';

/** Leaf kinds a field can have; a trailing `?` makes it optional (absent or null allowed). */
type LeafKind = 'string' | 'number' | 'object' | 'array';
type FieldKind = LeafKind | `${LeafKind}?`;
interface FieldSpec {
  readonly [field: string]: FieldKind | FieldSpec;
}

/**
 * Required (and optional, `?`) fields of every server event a gateway acts on, from
 * openai-node `src/resources/realtime/realtime.ts` (GA). Fields not listed are kept but not checked.
 */
export const SERVER_EVENT_FIELDS = {
  'session.created': { session: 'object' },
  'session.updated': { session: 'object' },
  'input_audio_buffer.speech_started': { audio_start_ms: 'number', item_id: 'string' },
  'input_audio_buffer.speech_stopped': { audio_end_ms: 'number', item_id: 'string' },
  'input_audio_buffer.committed': { item_id: 'string', previous_item_id: 'string?' },
  'input_audio_buffer.cleared': {},
  'input_audio_buffer.timeout_triggered': { audio_start_ms: 'number', audio_end_ms: 'number', item_id: 'string' },
  'conversation.item.added': { item: 'object', previous_item_id: 'string?' },
  'conversation.item.done': { item: 'object', previous_item_id: 'string?' },
  'conversation.item.created': { item: 'object', previous_item_id: 'string?' },
  'conversation.item.truncated': { item_id: 'string', content_index: 'number', audio_end_ms: 'number' },
  'conversation.item.deleted': { item_id: 'string' },
  'response.created': { response: { id: 'string', status: 'string?' } },
  'response.done': {
    response: { id: 'string', status: 'string', status_details: 'object?', output: 'array?' },
  },
  'response.function_call_arguments.delta': {
    response_id: 'string', item_id: 'string', output_index: 'number', call_id: 'string', delta: 'string',
  },
  'response.function_call_arguments.done': {
    response_id: 'string', item_id: 'string', output_index: 'number', call_id: 'string', name: 'string?', arguments: 'string',
  },
  'conversation.item.input_audio_transcription.completed': { item_id: 'string', content_index: 'number', transcript: 'string' },
  'conversation.item.input_audio_transcription.failed': { item_id: 'string', content_index: 'number', error: 'object' },
  'response.output_item.added': { response_id: 'string', output_index: 'number', item: 'object' },
  'response.output_item.done': { response_id: 'string', output_index: 'number', item: 'object' },
  'response.content_part.added': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number', part: 'object',
  },
  'response.content_part.done': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number', part: 'object',
  },
  'response.output_audio.delta': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number', delta: 'string',
  },
  'response.output_audio.done': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number',
  },
  'response.output_audio_transcript.delta': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number', delta: 'string',
  },
  'response.output_audio_transcript.done': {
    response_id: 'string', item_id: 'string', output_index: 'number', content_index: 'number', transcript: 'string',
  },
  'rate_limits.updated': { rate_limits: 'array' },
  error: {
    error: { type: 'string', message: 'string', code: 'string?', param: 'string?', event_id: 'string?' },
  },
} as const satisfies Record<string, FieldSpec>;

export type ServerEventType = keyof typeof SERVER_EVENT_FIELDS;

type LeafType<K> = K extends 'string' | 'string?'
  ? string
  : K extends 'number' | 'number?'
    ? number
    : K extends 'array' | 'array?'
      ? unknown[]
      : Record<string, unknown>;
type IsOptional<K> = K extends `${string}?` ? true : false;
type FieldType<K> = K extends string ? LeafType<K> : Shape<K>;
/** The TypeScript shape a field table describes (required keys, then optional ones). */
type Shape<S> = {
  -readonly [F in keyof S as IsOptional<S[F]> extends true ? never : F]: FieldType<S[F]>;
} & {
  -readonly [F in keyof S as IsOptional<S[F]> extends true ? F : never]?: FieldType<S[F]> | null;
};

/** A validated server event of type `T`. */
export type ServerEventOf<T extends ServerEventType> = { type: T; event_id?: string } & Shape<
  (typeof SERVER_EVENT_FIELDS)[T]
>;
export type ServerEvent = { [T in ServerEventType]: ServerEventOf<T> }[ServerEventType];

/** What `parseServerEvent` makes of one text frame. */
export type ParseResult =
  | { readonly kind: 'event'; readonly event: ServerEvent }
  /** Well-formed JSON with a `type` we do not handle: ignore it (the API adds events). */
  | { readonly kind: 'unknown'; readonly type: string }
  | { readonly kind: 'invalid'; readonly error: VoicewireError };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKnownType(type: string): type is ServerEventType {
  return Object.prototype.hasOwnProperty.call(SERVER_EVENT_FIELDS, type);
}

function leafMatches(kind: LeafKind, value: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
  }
}

/** Returns the dotted path of the first field that breaks `spec`, or undefined when all hold. */
function firstBadField(spec: FieldSpec, value: Record<string, unknown>, prefix: string): string | undefined {
  for (const [field, kind] of Object.entries(spec)) {
    const path = prefix === '' ? field : `${prefix}.${field}`;
    const present = value[field];
    if (typeof kind !== 'string') {
      if (!isRecord(present)) return path;
      const inner = firstBadField(kind, present, path);
      if (inner !== undefined) return inner;
      continue;
    }
    const optional = kind.endsWith('?');
    if (optional && (present === undefined || present === null)) continue;
    if (!leafMatches(kind.replace('?', '') as LeafKind, present)) return path;
  }
  return undefined;
}

/** Shortens text for error messages and logs (a bad frame can be megabytes). */
function excerpt(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Parses one text frame from the Realtime server. Never throws: malformed JSON, a non-object, a
 * missing `type` or a known event with a bad field yields `kind: 'invalid'` with a coded error.
 */
export function parseServerEvent(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { kind: 'invalid', error: vwError('VW_ERR_BAD_JSON', excerpt(reason)) };
  }
  if (!isRecord(value) || typeof value.type !== 'string') {
    return { kind: 'invalid', error: vwError('VW_ERR_BAD_FIELD', 'type') };
  }
  const type = value.type;
  if (!isKnownType(type)) return { kind: 'unknown', type: excerpt(type) };
  const bad = firstBadField(SERVER_EVENT_FIELDS[type], value, '');
  if (bad !== undefined) return { kind: 'invalid', error: vwError('VW_ERR_BAD_FIELD', `${type}: ${bad}`) };
  // The table above was checked field by field; the derived type says exactly that.
  return { kind: 'event', event: value as ServerEvent };
}

// ---------------------------------------------------------------------------------------------
// Client events

/** Audio formats the gateway puts on the model wire: G.711 μ-law 8 kHz or PCM16 LE 24 kHz. */
export type WireFormat = 'pcmu' | 'pcm24k';

export type RealtimeAudioFormat = { type: 'audio/pcmu' } | { type: 'audio/pcm'; rate: 24000 };

export function wireAudioFormat(format: WireFormat): RealtimeAudioFormat {
  return format === 'pcmu' ? { type: 'audio/pcmu' } : { type: 'audio/pcm', rate: 24000 };
}

/** `server_vad` turn detection, as the GA API spells it. */
export interface ServerVadTurnDetection {
  type: 'server_vad';
  threshold: number;
  prefix_padding_ms: number;
  silence_duration_ms: number;
  create_response: boolean;
  interrupt_response: boolean;
}

/** The API's documented defaults, with automatic responses and server-side barge-in on. */
export const DEFAULT_TURN_DETECTION: Readonly<ServerVadTurnDetection> = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  create_response: true,
  interrupt_response: true,
};

/** A function tool in a session (GA `RealtimeFunctionTool`). */
export interface RealtimeFunctionTool {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface RealtimeSessionConfig {
  type: 'realtime';
  output_modalities: ['audio'];
  instructions?: string;
  tools?: RealtimeFunctionTool[];
  tool_choice?: 'auto' | 'none' | 'required';
  audio: {
    input: {
      format: RealtimeAudioFormat;
      turn_detection: ServerVadTurnDetection | null;
      /** Input transcription (GA `audio.input.transcription`); off when absent. */
      transcription?: { model: string };
    };
    output: { format: RealtimeAudioFormat; voice: string };
  };
}

export interface SessionUpdateEvent {
  type: 'session.update';
  event_id?: string;
  session: RealtimeSessionConfig;
}
/**
 * A `session.update` of turn detection only (the GA API changes only the fields present; the
 * turn_detection object is sent whole, as configured, so nothing in it falls back to a default).
 */
export interface TurnDetectionUpdateEvent {
  type: 'session.update';
  event_id?: string;
  session: { type: 'realtime'; audio: { input: { turn_detection: ServerVadTurnDetection } } };
}
export interface InputAudioBufferAppendEvent {
  type: 'input_audio_buffer.append';
  event_id?: string;
  audio: string;
}
export interface ResponseCancelEvent {
  type: 'response.cancel';
  event_id?: string;
  response_id?: string;
}
export interface ResponseCreateEvent {
  type: 'response.create';
  event_id?: string;
  /** Overrides for this response only (the greeting's instructions). */
  response?: { instructions: string };
}
/** `conversation.item.create` of a function call's output (GA `RealtimeConversationItemFunctionCallOutput`). */
export interface FunctionCallOutputCreateEvent {
  type: 'conversation.item.create';
  event_id?: string;
  item: { type: 'function_call_output'; call_id: string; output: string };
}
export interface ConversationItemTruncateEvent {
  type: 'conversation.item.truncate';
  event_id?: string;
  item_id: string;
  content_index: number;
  audio_end_ms: number;
}

export type ClientEvent =
  | SessionUpdateEvent
  | TurnDetectionUpdateEvent
  | InputAudioBufferAppendEvent
  | ResponseCancelEvent
  | ResponseCreateEvent
  | FunctionCallOutputCreateEvent
  | ConversationItemTruncateEvent;

export interface SessionSettings {
  readonly instructions?: string;
  readonly voice: string;
  readonly inputFormat: WireFormat;
  readonly outputFormat: WireFormat;
  /** null disables server VAD (the client then commits and creates responses itself). */
  readonly turnDetection: ServerVadTurnDetection | null;
  /** Functions the model may call (`tool_choice: 'auto'`); none when absent or empty. */
  readonly tools?: readonly { readonly name: string; readonly description: string; readonly parameters: Readonly<Record<string, unknown>> }[];
  /** Transcription model for the caller's audio; none when absent. */
  readonly transcribeModel?: string;
}

/** The GA `session.update`: `type: 'realtime'` and everything audio under `audio.input/output`. */
export function buildSessionUpdate(settings: SessionSettings, eventId?: string): SessionUpdateEvent {
  const session: RealtimeSessionConfig = {
    type: 'realtime',
    output_modalities: ['audio'],
    audio: {
      input: {
        format: wireAudioFormat(settings.inputFormat),
        turn_detection: settings.turnDetection === null ? null : { ...settings.turnDetection },
      },
      output: { format: wireAudioFormat(settings.outputFormat), voice: settings.voice },
    },
  };
  if (settings.transcribeModel !== undefined) session.audio.input.transcription = { model: settings.transcribeModel };
  if (settings.instructions !== undefined) session.instructions = settings.instructions;
  if (settings.tools !== undefined && settings.tools.length > 0) {
    session.tools = settings.tools.map((tool) => ({ type: 'function', name: tool.name, description: tool.description, parameters: { ...tool.parameters } }));
    session.tool_choice = 'auto';
  }
  const event: SessionUpdateEvent = { type: 'session.update', session };
  return withEventId(event, eventId);
}

/** `session.update` changing turn detection mid-session (e.g. `create_response` around a barge-in). */
export function buildTurnDetectionUpdate(turnDetection: ServerVadTurnDetection, eventId?: string): TurnDetectionUpdateEvent {
  const event: TurnDetectionUpdateEvent = { type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { ...turnDetection } } } } };
  return withEventId(event, eventId);
}

export function buildAppend(audioBase64: string, eventId?: string): InputAudioBufferAppendEvent {
  const event: InputAudioBufferAppendEvent = { type: 'input_audio_buffer.append', audio: audioBase64 };
  return withEventId(event, eventId);
}

/**
 * `serializeClientEvent(buildAppend(audioBase64))` from a template: the same text without building and
 * stringifying an object per message. Only for base64 (which JSON never escapes).
 */
export function serializeAppend(audioBase64: string): string {
  return `{"type":"input_audio_buffer.append","audio":"${audioBase64}"}`;
}

export function buildResponseCancel(responseId?: string, eventId?: string): ResponseCancelEvent {
  const event: ResponseCancelEvent = { type: 'response.cancel' };
  if (responseId !== undefined) event.response_id = responseId;
  return withEventId(event, eventId);
}

export function buildResponseCreate(eventId?: string, instructions?: string): ResponseCreateEvent {
  const event: ResponseCreateEvent = { type: 'response.create' };
  if (instructions !== undefined) event.response = { instructions };
  return withEventId(event, eventId);
}

/** Adds a function call's output to the conversation (no response by itself). */
export function buildFunctionCallOutput(callId: string, output: string, eventId?: string): FunctionCallOutputCreateEvent {
  const event: FunctionCallOutputCreateEvent = { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } };
  return withEventId(event, eventId);
}

/**
 * `conversation.item.truncate` for content part 0. `audioEndMs` is what the caller heard of the
 * item; the API wants a non-negative integer, so it is rounded and clamped at 0. A non-finite
 * value is a `VW_ERR_INVALID_SIZE` (a caller bug, not something to guess at).
 */
export function buildTruncate(itemId: string, audioEndMs: number, eventId?: string): ConversationItemTruncateEvent {
  if (!Number.isFinite(audioEndMs)) throw vwError('VW_ERR_INVALID_SIZE', String(audioEndMs));
  const event: ConversationItemTruncateEvent = {
    type: 'conversation.item.truncate',
    item_id: itemId,
    content_index: 0,
    audio_end_ms: Math.max(0, Math.round(audioEndMs)),
  };
  return withEventId(event, eventId);
}

function withEventId<E extends { event_id?: string }>(event: E, eventId: string | undefined): E {
  if (eventId !== undefined) event.event_id = eventId;
  return event;
}

export function serializeClientEvent(event: ClientEvent): string {
  return JSON.stringify(event);
}
