/**
 * The shapes an application scripts against — the setup webhook's request and answer, and HTTP
 * tools — with their validation. A validator returns the typed value or the path of the first bad
 * field; it never throws and never passes an unchecked value on, because everything here comes
 * from outside the gateway (a webhook, a file) and ends up in a model session or a dial string.
 */
import type { TransportKind } from '../transports/transport.js';

/** An application tool reached over HTTP. */
export interface HttpTool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments (passed to the model as is). */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly url: string;
  /** Deadline of one call of this tool. */
  readonly timeoutMs: number;
}

/** What the gateway POSTs to CALL_SETUP_URL when a call starts. */
export interface CallSetupRequest {
  readonly callId: string;
  readonly transport: TransportKind;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly parameters: Readonly<Record<string, string>>;
}

/** A validated setup answer: every field optional; absent fields keep the gateway's defaults. */
export interface CallSetup {
  readonly instructions?: string;
  readonly voice?: string;
  readonly greeting?: string;
  readonly creditWindowMs?: number;
  /** Local barge-in for this call (LOCAL_BARGE_IN_MS): ms of speech the gateway's VAD needs; 0 = off. */
  readonly localBargeInMs?: number;
  /** How long a local barge-in waits for the model's speech start before it counts as a false start (LOCAL_BARGE_IN_HOLD_MS). */
  readonly localBargeInHoldMs?: number;
  readonly tools?: readonly HttpTool[];
  /** Offer the built-in `end_call` tool. */
  readonly endCall?: boolean;
  /** Offer the built-in `transfer_call` tool, dialling `to`. */
  readonly transfer?: { readonly to: string };
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** End the call at once. */
  readonly reject?: boolean;
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly path: string };

export const BUILT_IN_TOOL_NAMES = ['end_call', 'transfer_call'] as const;
export const MAX_TOOLS = 32;
export const DEFAULT_TOOL_TIMEOUT_MS = 5_000;
export const MIN_TOOL_TIMEOUT_MS = 100;
export const MAX_TOOL_TIMEOUT_MS = 30_000;
/** The same bound as LOCAL_BARGE_IN_MS's. */
export const MAX_LOCAL_BARGE_IN_MS = 500;
/** Bounds of a local barge-in's hold: above any model VAD's report time, below a pause the caller would take for a dropped call. */
export const MIN_LOCAL_BARGE_IN_HOLD_MS = 100;
export const MAX_LOCAL_BARGE_IN_HOLD_MS = 5_000;
const MAX_INSTRUCTIONS_CHARS = 16_000;
const MAX_GREETING_CHARS = 1_000;
const MAX_DESCRIPTION_CHARS = 1_024;
const MAX_METADATA_BYTES = 8 * 1024;
const MAX_SCHEMA_BYTES = 16 * 1024;
/** The model APIs' rule for function names. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const VOICE = /^[A-Za-z0-9_-]{1,64}$/;
/** E.164, or a SIP URI (no spaces or angle brackets: it ends up inside TwiML). */
const DIAL_TARGET = /^(\+[1-9]\d{6,14}|sips?:[^\s<>"'&]{3,250})$/;
const SETUP_KEYS = new Set(['instructions', 'voice', 'greeting', 'creditWindowMs', 'localBargeInMs', 'localBargeInHoldMs', 'tools', 'endCall', 'transfer', 'metadata', 'reject']);
const TOOL_KEYS = new Set(['name', 'description', 'parameters', 'url', 'timeoutMs']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad<T>(path: string): Checked<T> {
  return { ok: false, path };
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** One HTTP tool; `path` prefixes the field named in a failure. */
export function checkTool(value: unknown, path: string): Checked<HttpTool> {
  if (!isRecord(value)) return bad(path);
  for (const key of Object.keys(value)) if (!TOOL_KEYS.has(key)) return bad(`${path}.${key}`);
  const { name, description, parameters, url, timeoutMs } = value;
  if (typeof name !== 'string' || !TOOL_NAME.test(name)) return bad(`${path}.name`);
  if ((BUILT_IN_TOOL_NAMES as readonly string[]).includes(name)) return bad(`${path}.name`);
  if (description !== undefined && (typeof description !== 'string' || description.length > MAX_DESCRIPTION_CHARS)) return bad(`${path}.description`);
  if (parameters !== undefined && (!isRecord(parameters) || JSON.stringify(parameters).length > MAX_SCHEMA_BYTES)) return bad(`${path}.parameters`);
  if (!isHttpUrl(url)) return bad(`${path}.url`);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || (timeoutMs as number) < MIN_TOOL_TIMEOUT_MS || (timeoutMs as number) > MAX_TOOL_TIMEOUT_MS)) {
    return bad(`${path}.timeoutMs`);
  }
  return {
    ok: true,
    value: {
      name,
      description: (description) ?? '',
      parameters: (parameters) ?? { type: 'object', properties: {} },
      url,
      timeoutMs: (timeoutMs as number | undefined) ?? DEFAULT_TOOL_TIMEOUT_MS,
    },
  };
}

/** A `tools` array (setup answer or TOOLS_FILE): at most MAX_TOOLS, names unique. */
export function checkTools(value: unknown, path = 'tools'): Checked<readonly HttpTool[]> {
  if (!Array.isArray(value) || value.length > MAX_TOOLS) return bad(path);
  const tools: HttpTool[] = [];
  const names = new Set<string>();
  for (const [i, entry] of value.entries()) {
    const tool = checkTool(entry, `${path}[${i}]`);
    if (!tool.ok) return tool;
    if (names.has(tool.value.name)) return bad(`${path}[${i}].name`);
    names.add(tool.value.name);
    tools.push(tool.value);
  }
  return { ok: true, value: tools };
}

/** A setup webhook's 200 answer. Unknown fields are refused: a typo must not pass silently. */
export function checkSetup(value: unknown): Checked<CallSetup> {
  if (!isRecord(value)) return bad('(answer)');
  for (const key of Object.keys(value)) if (!SETUP_KEYS.has(key)) return bad(key);
  const setup: { -readonly [K in keyof CallSetup]: CallSetup[K] } = {};
  const { instructions, voice, greeting, creditWindowMs, localBargeInMs, localBargeInHoldMs, tools, endCall, transfer, metadata, reject } = value;
  if (instructions !== undefined) {
    if (typeof instructions !== 'string' || instructions.length > MAX_INSTRUCTIONS_CHARS) return bad('instructions');
    setup.instructions = instructions;
  }
  if (voice !== undefined) {
    if (typeof voice !== 'string' || !VOICE.test(voice)) return bad('voice');
    setup.voice = voice;
  }
  if (greeting !== undefined) {
    if (typeof greeting !== 'string' || greeting.length > MAX_GREETING_CHARS) return bad('greeting');
    setup.greeting = greeting;
  }
  if (creditWindowMs !== undefined) {
    if (!Number.isInteger(creditWindowMs) || (creditWindowMs as number) < 200 || (creditWindowMs as number) > 2000) return bad('creditWindowMs');
    setup.creditWindowMs = creditWindowMs as number;
  }
  if (localBargeInMs !== undefined) {
    if (!Number.isInteger(localBargeInMs) || (localBargeInMs as number) < 0 || (localBargeInMs as number) > MAX_LOCAL_BARGE_IN_MS) return bad('localBargeInMs');
    setup.localBargeInMs = localBargeInMs as number;
  }
  if (localBargeInHoldMs !== undefined) {
    const ms = localBargeInHoldMs as number;
    if (!Number.isInteger(ms) || ms < MIN_LOCAL_BARGE_IN_HOLD_MS || ms > MAX_LOCAL_BARGE_IN_HOLD_MS) return bad('localBargeInHoldMs');
    setup.localBargeInHoldMs = ms;
  }
  if (tools !== undefined) {
    const checked = checkTools(tools);
    if (!checked.ok) return checked;
    setup.tools = checked.value;
  }
  if (endCall !== undefined) {
    if (typeof endCall !== 'boolean') return bad('endCall');
    setup.endCall = endCall;
  }
  if (transfer !== undefined) {
    if (!isRecord(transfer) || typeof transfer.to !== 'string' || !DIAL_TARGET.test(transfer.to) || Object.keys(transfer).length !== 1) return bad('transfer');
    setup.transfer = { to: transfer.to };
  }
  if (metadata !== undefined) {
    if (!isRecord(metadata) || JSON.stringify(metadata).length > MAX_METADATA_BYTES) return bad('metadata');
    setup.metadata = metadata;
  }
  if (reject !== undefined) {
    if (typeof reject !== 'boolean') return bad('reject');
    setup.reject = reject;
  }
  return { ok: true, value: setup };
}

/** A dial target the gateway will put into TwiML (E.164 or sip:). */
export function isDialTarget(value: string): boolean {
  return DIAL_TARGET.test(value);
}
