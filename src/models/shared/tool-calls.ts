/**
 * Function calls a socket-bridged model made and the gateway has not answered yet. The providers
 * want the function's name back with its result (Gemini, Deepgram) and ignore results of calls
 * they cancelled, so the session keeps callId → name until the result is sent. Bounded: a model
 * that never gets answers cannot grow it (the oldest call is forgotten, and its late result dropped).
 */
import type { ModelToolCall, ToolDefinition } from '../model.js';

/** Calls kept at most; a model issues a handful per turn. */
export const MAX_PENDING_TOOL_CALLS = 64;

export class PendingToolCalls {
  private readonly pending = new Map<string, string>();
  private readonly names: ReadonlySet<string>;
  private seq = 0;

  constructor(tools: readonly ToolDefinition[] | undefined, private readonly prefix: string) {
    this.names = new Set((tools ?? []).map((t) => t.name));
  }

  /** True when the session was given any tools (else calls are refused at once). */
  get enabled(): boolean {
    return this.names.size > 0;
  }

  /** True when `name` is one of the session's tools. */
  offers(name: string): boolean {
    return this.names.has(name);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Records a call and returns it as the session hands it on; a call without an id gets one. */
  add(responseId: string, id: string | undefined, name: string, args: string): ModelToolCall {
    const callId = id ?? `${this.prefix}_call_${++this.seq}`;
    this.pending.delete(callId);
    this.pending.set(callId, name);
    if (this.pending.size > MAX_PENDING_TOOL_CALLS) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    return { responseId, callId, name, arguments: args };
  }

  /** The name of a pending call, removing it; undefined when unknown, answered or cancelled. */
  take(callId: string): string | undefined {
    const name = this.pending.get(callId);
    this.pending.delete(callId);
    return name;
  }

  /** The provider cancelled these calls: their results must not be sent. */
  cancel(ids: readonly string[]): number {
    let cancelled = 0;
    for (const id of ids) if (this.pending.delete(id)) cancelled++;
    return cancelled;
  }

  /** A new connection without resumption: the old conversation's calls cannot be answered. */
  clear(): void {
    this.pending.clear();
  }
}

/**
 * True for the tool runner's failure output (`{"error": "…"}` and nothing else; see
 * src/agent/tool-runner.ts failureOutput), for protocols with an error flag (ElevenLabs `is_error`).
 */
export function isErrorOutput(output: string): boolean {
  try {
    const value: unknown = JSON.parse(output);
    return typeof value === 'object' && value !== null && !Array.isArray(value) &&
      Object.keys(value).length === 1 && typeof (value as Record<string, unknown>).error === 'string';
  } catch {
    return false;
  }
}
