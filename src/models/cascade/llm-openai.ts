/**
 * Reasoning through any OpenAI-compatible streaming `/v1/chat/completions` (OpenAI, vLLM, llama.cpp
 * server, Ollama's /v1, …): `stream: true`, SSE `data: {"choices":[{"delta":{"content":"…"}}]}`
 * … `data: [DONE]`. The body is read only when the consumer asks for the next delta, so a paused
 * pipeline stops reading the socket. A stream that breaks the format (bad JSON, an `error`
 * object, an end without `[DONE]` or a finish reason) is a StageError('llm').
 */
import { vwError } from '../../errors.js';
import { authHeaders, body, endpointUrl, StageRequest } from './http.js';
import type { ChatMessage, ChatToolCall } from './history.js';
import type { Reasoner, ReasoningContext, TurnInput } from './reasoner.js';
import { SseParser } from './sse.js';
import { stageError, toStageError } from './stage-error.js';

export interface OpenAiChatOptions {
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  /** Deadline for the headers and for each wait on body bytes. */
  readonly timeoutMs: number;
  readonly systemPrompt?: string;
  /** `max_tokens` of the request (a bound on the answer). Default 400. */
  readonly maxTokens?: number;
  /** Longest SSE line/event accepted (chars). Default 256 KiB. */
  readonly maxEventChars?: number;
}

export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a friendly voice assistant on a phone call. Answer in short spoken sentences, without ' +
  'lists, markdown or emoji. If your previous answer looks cut short, the caller interrupted you there.';

export class OpenAiChatReasoner implements Reasoner {
  readonly name: string;
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiChatOptions) {
    this.endpoint = endpointUrl(options.url, CHAT_COMPLETIONS_PATH);
    this.name = `openai-chat/${options.model}`;
  }

  userMessage(input: TurnInput): string {
    if (input.kind !== 'utterance') return '';
    if (input.text !== undefined && input.text.length > 0) return input.text;
    return `[The caller spoke for ${(input.durationMs / 1000).toFixed(1)} seconds; no transcript is available.]`;
  }

  /** The request messages: system prompt, history, this turn. */
  messages(input: TurnInput, history: readonly ChatMessage[]): ChatMessage[] {
    const system: ChatMessage = { role: 'system', content: this.options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT };
    if (input.kind === 'greeting') {
      return [system, ...history, { role: 'user', content: '[The caller has just connected. Greet them in one or two short sentences.]' }];
    }
    // The function outputs are the last messages of the history: answer them.
    if (input.kind === 'tool-results') return [system, ...history];
    return [system, ...history, { role: 'user', content: this.userMessage(input) }];
  }

  async *respond(input: TurnInput, context: ReasoningContext): AsyncIterable<string> {
    const request = new StageRequest('llm', this.options.timeoutMs, context.signal);
    try {
      const response = await request.fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(this.options.apiKey) },
        body: JSON.stringify({
          model: this.options.model,
          messages: this.messages(input, context.history).map(wireMessage),
          stream: true,
          max_tokens: this.options.maxTokens ?? 400,
          ...(context.tools && context.tools.length > 0
            ? { tools: context.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })), tool_choice: 'auto' }
            : {}),
        }),
      });
      const reader = body(response, 'llm').getReader();
      const decoder = new TextDecoder();
      const limit = this.options.maxEventChars ?? 256 * 1024;
      const parser = new SseParser({ source: 'llm', maxLineChars: limit, maxEventChars: limit });
      const state: StreamState = { done: false, finished: false };
      while (!state.done) {
        const { done, value } = await request.read(reader);
        const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
        // Deltas are yielded one at a time: while the consumer holds one, nothing more is read.
        for (const delta of parseEvents(parser.push(text), state)) yield delta;
        if (done) {
          parser.end();
          if (!state.done && !state.finished) throw stageError('llm', 'stream ended before [DONE]');
          break;
        }
      }
      for (const call of completedToolCalls(state)) context.onToolCall?.(call);
    } catch (err) {
      throw context.signal.aborted ? request.failure(err) : toStageError('llm', err);
    } finally {
      // Cancels the body if we stopped early (barge-in, or [DONE] with bytes left): the server
      // sees the connection close.
      request.dispose();
    }
  }
}

interface StreamState {
  /** `[DONE]` seen. */
  done: boolean;
  /** A choice carried a finish_reason (some servers end without `[DONE]`). */
  finished: boolean;
  /** Function calls being streamed, by their `index` (created at the first one). */
  toolCalls?: Map<number, { id: string; name: string; arguments: string }>;
}

/** Bounds on streamed function calls: a runaway stream is a malformed one. */
const MAX_TOOL_CALLS = 8;
const MAX_TOOL_ARGUMENT_CHARS = 64 * 1024;

/** One history message as the chat API spells it (`tool_calls`, `tool_call_id`). */
function wireMessage(message: ChatMessage): Record<string, unknown> {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  if (message.toolCalls && message.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: message.content === '' ? null : message.content,
      tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: message.role, content: message.content };
}

/** The streamed calls, in index order; each must have its id and name by the end. */
function completedToolCalls(state: StreamState): ChatToolCall[] {
  return [...(state.toolCalls?.entries() ?? [])].sort(([a], [b]) => a - b).map(([, call]) => {
    if (call.id === '' || call.name === '') throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'a tool call has no id or name');
    return { ...call };
  });
}

/** Folds one chunk's `delta.tool_calls` pieces into `state` (OpenAI streams them by `index`). */
function accumulateToolCalls(pieces: unknown, state: StreamState): void {
  if (pieces === undefined || pieces === null) return;
  if (!Array.isArray(pieces)) throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'delta.tool_calls is not an array');
  const calls = (state.toolCalls ??= new Map<number, { id: string; name: string; arguments: string }>());
  for (const piece of pieces as Array<{ index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }>) {
    const index = piece.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'tool call without an index');
    let call: { id: string; name: string; arguments: string } | undefined = calls.get(index);
    if (call === undefined) {
      if (calls.size >= MAX_TOOL_CALLS) throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', `more than ${MAX_TOOL_CALLS} tool calls`);
      call = { id: '', name: '', arguments: '' };
      calls.set(index, call);
    }
    if (typeof piece.id === 'string') call.id = piece.id;
    if (typeof piece.function?.name === 'string') call.name += piece.function.name;
    if (typeof piece.function?.arguments === 'string') call.arguments += piece.function.arguments;
    if (call.arguments.length > MAX_TOOL_ARGUMENT_CHARS) throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'tool call arguments too long');
  }
}

/** Text deltas of a batch of SSE events; updates `state`. Malformed events are VW_ERR_MALFORMED_STREAM. */
export function* parseEvents(events: ReadonlyArray<{ event: string; data: string }>, state: StreamState): Generator<string> {
  for (const event of events) {
    if (state.done) return;
    const data = event.data.trim();
    if (data === '[DONE]') {
      state.done = true;
      return;
    }
    if (event.event === 'error') throw stageError('llm', `server error event: ${data.slice(0, 200)}`);
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', `event is not JSON: ${data.slice(0, 80)}`);
    }
    const delta = deltaOf(chunk, state);
    if (delta) yield delta;
  }
}

function deltaOf(chunk: unknown, state: StreamState): string | undefined {
  if (typeof chunk !== 'object' || chunk === null) {
    throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'event is not a JSON object');
  }
  const { error, choices } = chunk as { error?: unknown; choices?: unknown };
  if (error !== undefined) {
    const message = (error as { message?: unknown } | null | undefined)?.message;
    throw stageError('llm', `server error: ${typeof message === 'string' ? message : JSON.stringify(error)}`);
  }
  if (!Array.isArray(choices)) throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'event has no choices array');
  // Usage-only chunks (stream_options.include_usage) carry an empty choices array.
  const choice = choices[0] as { delta?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown } | undefined;
  if (!choice) return undefined;
  if (typeof choice.finish_reason === 'string') state.finished = true;
  accumulateToolCalls(choice.delta?.tool_calls, state);
  const content = choice.delta?.content;
  if (content === undefined || content === null) return undefined;
  if (typeof content !== 'string') throw vwError('VW_ERR_MALFORMED_STREAM', 'llm', 'delta.content is not a string');
  return content;
}
