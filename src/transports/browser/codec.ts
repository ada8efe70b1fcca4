/**
 * Pure codec for the browser protocol v1 (house style 10): JSON text ⇄ typed control messages,
 * and (re-exported from frames.ts) binary audio frames. No I/O, no Node-only APIs: the browser SDK
 * bundles this same file.
 *
 * Parsing never throws. Every input is a typed message or a coded error: VW_ERR_MESSAGE_TOO_LARGE,
 * VW_ERR_BAD_JSON, VW_ERR_UNKNOWN_EVENT, VW_ERR_BAD_FIELD (with the field path in `detail`) or
 * VW_ERR_PROTOCOL_VERSION. Unknown extra fields are ignored so a later minor revision can add some.
 */
import { vwError, type VoicewireError } from '../../errors.js';
import {
  CLIENT_MESSAGE_TYPES,
  CONVERSATION_STATES,
  MAX_CONTROL_BYTES,
  MAX_PARAMETERS,
  MAX_PARAMETER_NAME_CHARS,
  MAX_PARAMETER_VALUE_CHARS,
  MAX_SHORT_CHARS,
  MAX_TEXT_CHARS,
  PROTOCOL_VERSION,
  SERVER_MESSAGE_TYPES,
  isWireRate,
  type ClientMessage,
  type ControlMessage,
  type ConversationState,
  type ErrorMessage,
  type HelloMessage,
  type PcmFormat,
  type ReadyMessage,
  type ServerMessage,
  type StatsMessage,
  type WireRate,
} from './messages.js';

export * from './frames.js';
export * from './messages.js';

export type ControlResult<T> =
  | { readonly ok: true; readonly message: T }
  | {
      readonly ok: false;
      readonly error: VoicewireError;
      /** The field path (VW_ERR_BAD_FIELD) or the `type` (VW_ERR_UNKNOWN_EVENT) it is about. */
      readonly detail?: string;
      /** The message's `type` when it could be read (for logs). */
      readonly type?: string;
    };

type Json = Record<string, unknown>;

/** Thrown only inside this module and turned into a result. */
class Refusal extends Error {
  constructor(
    readonly error: VoicewireError,
    readonly detail?: string,
  ) {
    super(error.message);
  }
}

const U32_MAX = 0xffffffff;
const PARAMETER_NAME = /^[A-Za-z0-9_.-]+$/;
const CLIENT_TYPES: ReadonlySet<string> = new Set(CLIENT_MESSAGE_TYPES);
const SERVER_TYPES: ReadonlySet<string> = new Set(SERVER_MESSAGE_TYPES);
const STATES: ReadonlySet<string> = new Set(CONVERSATION_STATES);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function badField(path: string): Refusal {
  return new Refusal(vwError('VW_ERR_BAD_FIELD', path), path);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function u32(obj: Json, key: string): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U32_MAX) throw badField(key);
  return value;
}

function nonNegative(obj: Json, key: string, max = U32_MAX): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) throw badField(key);
  return value;
}

function optionalNonNegative(obj: Json, key: string): number | undefined {
  return obj[key] === undefined ? undefined : nonNegative(obj, key);
}

function finite(obj: Json, key: string): number {
  const value = obj[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badField(key);
  return value;
}

function string(obj: Json, key: string, maxChars: number, minChars = 0): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length < minChars || value.length > maxChars) throw badField(key);
  return value;
}

function wireRate(obj: Json, key: string, path = key): WireRate | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!isWireRate(value)) throw badField(path);
  return value;
}

/** The version is checked before any other field: a v2 hello may look different in every other way. */
function version(obj: Json): number {
  const value = obj.version;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw badField('version');
  if (value !== PROTOCOL_VERSION) throw new Refusal(vwError('VW_ERR_PROTOCOL_VERSION', value), 'version');
  return value;
}

function parameters(obj: Json): Readonly<Record<string, string>> | undefined {
  const value = obj.parameters;
  if (value === undefined) return undefined;
  if (!isObject(value)) throw badField('parameters');
  const entries = Object.entries(value);
  if (entries.length > MAX_PARAMETERS) throw badField('parameters');
  for (const [name, v] of entries) {
    const path = `parameters.${name.slice(0, MAX_PARAMETER_NAME_CHARS)}`;
    if (name.length > MAX_PARAMETER_NAME_CHARS || !PARAMETER_NAME.test(name)) throw badField(path);
    if (typeof v !== 'string' || v.length > MAX_PARAMETER_VALUE_CHARS) throw badField(path);
  }
  // fromEntries defines own properties, so a "__proto__" name cannot touch the prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseHello(obj: Json): HelloMessage {
  const hello: { -readonly [K in keyof HelloMessage]: HelloMessage[K] } = { type: 'hello', version: version(obj) };
  const playbackRate = wireRate(obj, 'playbackRate');
  if (playbackRate !== undefined) hello.playbackRate = playbackRate;
  const micRate = wireRate(obj, 'micRate');
  if (micRate !== undefined) hello.micRate = micRate;
  if (obj.windowMs !== undefined) {
    const windowMs = nonNegative(obj, 'windowMs', 60_000);
    if (windowMs === 0) throw badField('windowMs');
    hello.windowMs = windowMs;
  }
  const params = parameters(obj);
  if (params !== undefined) hello.parameters = params;
  return hello;
}

function parseClient(type: string, obj: Json): ClientMessage {
  switch (type) {
    case 'hello':
      return parseHello(obj);
    case 'played':
      return { type, epoch: u32(obj, 'epoch'), playedMs: nonNegative(obj, 'playedMs') };
    case 'sentence_played':
      return { type, epoch: u32(obj, 'epoch'), sentenceId: u32(obj, 'sentenceId') };
    case 'ping':
    case 'pong':
      return { type, id: u32(obj, 'id'), t: finite(obj, 't') };
    case 'bye': {
      if (obj.reason === undefined) return { type };
      return { type, reason: string(obj, 'reason', MAX_SHORT_CHARS) };
    }
    default:
      throw new Refusal(vwError('VW_ERR_UNKNOWN_EVENT', type), type);
  }
}

function pcmFormat(obj: Json, key: string): PcmFormat {
  const value = obj[key];
  if (!isObject(value)) throw badField(key);
  if (value.encoding !== 'pcm16') throw badField(`${key}.encoding`);
  const sampleRate = wireRate(value, 'sampleRate', `${key}.sampleRate`);
  if (sampleRate === undefined) throw badField(`${key}.sampleRate`);
  return { encoding: 'pcm16', sampleRate };
}

function parseReady(obj: Json): ReadyMessage {
  const v = version(obj);
  const windowMs = u32(obj, 'windowMs');
  if (windowMs === 0) throw badField('windowMs');
  const maxMicFrameMs = u32(obj, 'maxMicFrameMs');
  if (maxMicFrameMs === 0) throw badField('maxMicFrameMs');
  return {
    type: 'ready',
    version: v,
    sessionId: string(obj, 'sessionId', MAX_SHORT_CHARS, 1),
    playback: pcmFormat(obj, 'playback'),
    mic: pcmFormat(obj, 'mic'),
    epoch: u32(obj, 'epoch'),
    windowMs,
    heartbeatMs: u32(obj, 'heartbeatMs'),
    maxMicFrameMs,
  };
}

function parseStats(obj: Json): StatsMessage {
  const stats: { -readonly [K in keyof StatsMessage]: StatsMessage[K] } = {
    type: 'stats',
    creditMs: nonNegative(obj, 'creditMs'),
    windowMs: nonNegative(obj, 'windowMs'),
    serverBufferedMs: nonNegative(obj, 'serverBufferedMs'),
  };
  const inFlightMs = optionalNonNegative(obj, 'inFlightMs');
  if (inFlightMs !== undefined) stats.inFlightMs = inFlightMs;
  const lastBargeInMs = optionalNonNegative(obj, 'lastBargeInMs');
  if (lastBargeInMs !== undefined) stats.lastBargeInMs = lastBargeInMs;
  const rttMs = optionalNonNegative(obj, 'rttMs');
  if (rttMs !== undefined) stats.rttMs = rttMs;
  return stats;
}

function parseError(obj: Json): ErrorMessage {
  const code = string(obj, 'code', MAX_SHORT_CHARS, 1);
  const message = string(obj, 'message', MAX_TEXT_CHARS);
  if (obj.detail === undefined) return { type: 'error', code, message };
  return { type: 'error', code, message, detail: string(obj, 'detail', MAX_SHORT_CHARS) };
}

function parseServer(type: string, obj: Json): ServerMessage {
  switch (type) {
    case 'ready':
      return parseReady(obj);
    case 'sentence_end':
      return { type, epoch: u32(obj, 'epoch'), sentenceId: u32(obj, 'sentenceId') };
    case 'clear':
      return { type, epoch: u32(obj, 'epoch') };
    case 'transcript': {
      const role = obj.role;
      if (role !== 'user' && role !== 'assistant') throw badField('role');
      const final = obj.final;
      if (typeof final !== 'boolean') throw badField('final');
      return { type, role, text: string(obj, 'text', MAX_TEXT_CHARS), final };
    }
    case 'state': {
      const state = obj.state;
      if (typeof state !== 'string' || !STATES.has(state)) throw badField('state');
      return { type, state: state as ConversationState };
    }
    case 'stats':
      return parseStats(obj);
    case 'error':
      return parseError(obj);
    case 'transfer':
      return { type, to: string(obj, 'to', MAX_SHORT_CHARS, 1) };
    case 'ping':
    case 'pong':
      return { type, id: u32(obj, 'id'), t: finite(obj, 't') };
    default:
      throw new Refusal(vwError('VW_ERR_UNKNOWN_EVENT', type), type);
  }
}

/** UTF-8 length of `text` without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

function parseText(input: string | Uint8Array): Json {
  let text: string;
  if (typeof input === 'string') {
    // UTF-8 never takes fewer bytes than UTF-16 code units, so a long string is refused unmeasured.
    const size = input.length > MAX_CONTROL_BYTES ? input.length : utf8Length(input);
    if (size > MAX_CONTROL_BYTES) throw new Refusal(vwError('VW_ERR_MESSAGE_TOO_LARGE', size, MAX_CONTROL_BYTES));
    text = input;
  } else {
    if (input.byteLength > MAX_CONTROL_BYTES) {
      throw new Refusal(vwError('VW_ERR_MESSAGE_TOO_LARGE', input.byteLength, MAX_CONTROL_BYTES));
    }
    try {
      text = utf8.decode(input);
    } catch {
      throw new Refusal(vwError('VW_ERR_BAD_JSON', 'invalid UTF-8'));
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Refusal(vwError('VW_ERR_BAD_JSON', 'syntax error'));
  }
  if (!isObject(value)) throw new Refusal(vwError('VW_ERR_BAD_JSON', 'not an object'));
  return value;
}

function decode<T>(
  input: string | Uint8Array,
  known: ReadonlySet<string>,
  parse: (type: string, obj: Json) => T,
): ControlResult<T> {
  let type: string | undefined;
  try {
    const obj = parseText(input);
    if (typeof obj.type !== 'string' || obj.type.length === 0) throw badField('type');
    type = obj.type.slice(0, MAX_SHORT_CHARS);
    if (!known.has(obj.type)) throw new Refusal(vwError('VW_ERR_UNKNOWN_EVENT', JSON.stringify(type)), type);
    return { ok: true, message: parse(obj.type, obj) };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    const failure: { ok: false; error: VoicewireError; detail?: string; type?: string } = { ok: false, error: err.error };
    if (err.detail !== undefined) failure.detail = err.detail;
    if (type !== undefined) failure.type = type;
    return failure;
  }
}

/** Parses a control message a client sent (text or its UTF-8 bytes). Never throws. */
export function decodeClientMessage(input: string | Uint8Array): ControlResult<ClientMessage> {
  return decode(input, CLIENT_TYPES, parseClient);
}

/** Parses a control message a server sent (text or its UTF-8 bytes). Never throws. */
export function decodeServerMessage(input: string | Uint8Array): ControlResult<ServerMessage> {
  return decode(input, SERVER_TYPES, parseServer);
}

/** The JSON text of a control message. Callers keep it under MAX_CONTROL_BYTES (see utf8Length). */
export function encodeControl(message: ControlMessage): string {
  return JSON.stringify(message);
}

/** The `error` message that reports `error` to the peer. */
export function errorMessageFor(error: VoicewireError, detail?: string): ErrorMessage {
  const message = error.message.slice(0, MAX_TEXT_CHARS);
  if (detail === undefined) return { type: 'error', code: error.code, message };
  return { type: 'error', code: error.code, message, detail: detail.slice(0, MAX_SHORT_CHARS) };
}
