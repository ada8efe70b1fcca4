/**
 * GA function calling and input transcription for the fake Realtime server, as openai-node's GA
 * types (src/resources/realtime/realtime.ts) spell them:
 *
 * - a function call in a response: `response.output_item.added` (item `type: 'function_call'`,
 *   `call_id`, `name`, `arguments: ''`, `status: 'in_progress'`), `conversation.item.added`,
 *   `response.function_call_arguments.delta` (`response_id`, `item_id`, `output_index`,
 *   `call_id`, `delta`) in pieces, `response.function_call_arguments.done` (+ `name`,
 *   `arguments`), `response.output_item.done` and `conversation.item.done` with the completed
 *   item, which `response.done` then carries in `response.output`;
 * - the client answers `conversation.item.create` with an item
 *   `{type: 'function_call_output', call_id, output}` (the server echoes `conversation.item.added`
 *   and `.done`), then `response.create`;
 * - with `audio.input.transcription` set, each committed user turn gets
 *   `conversation.item.input_audio_transcription.completed` (`item_id`, `content_index`,
 *   `transcript`, `usage`).
 */
import type { FakeApiError } from './realtime-server-session.js';

/** One scripted answer of the fake: audio (may be 0 ms), its transcript, and an optional function call after it. */
export interface FakeTurn {
  readonly audioMs?: number;
  readonly text?: string;
  readonly functionCall?: { readonly name: string; readonly arguments: string };
}

export interface FunctionCallPlan {
  readonly itemId: string;
  readonly callId: string;
  readonly name: string;
  readonly arguments: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function functionCallItem(call: FunctionCallPlan, status: 'in_progress' | 'completed'): Record<string, unknown> {
  return {
    id: call.itemId, object: 'realtime.item', type: 'function_call', status,
    name: call.name, call_id: call.callId, arguments: status === 'completed' ? call.arguments : '',
  };
}

/** The server events of one function call item at `outputIndex` of `responseId`, in wire order. */
export function functionCallEvents(responseId: string, outputIndex: number, call: FunctionCallPlan, previousItemId: string | null): Record<string, unknown>[] {
  const ids = { response_id: responseId, item_id: call.itemId, output_index: outputIndex, call_id: call.callId };
  const done = functionCallItem(call, 'completed');
  const events: Record<string, unknown>[] = [
    { type: 'response.output_item.added', response_id: responseId, output_index: outputIndex, item: functionCallItem(call, 'in_progress') },
    { type: 'conversation.item.added', previous_item_id: previousItemId, item: functionCallItem(call, 'in_progress') },
  ];
  // The arguments stream in pieces, like the model's tokens.
  const piece = Math.max(1, Math.ceil(call.arguments.length / 3));
  for (let i = 0; i < call.arguments.length; i += piece) {
    events.push({ type: 'response.function_call_arguments.delta', ...ids, delta: call.arguments.slice(i, i + piece) });
  }
  events.push(
    { type: 'response.function_call_arguments.done', ...ids, name: call.name, arguments: call.arguments },
    { type: 'response.output_item.done', response_id: responseId, output_index: outputIndex, item: done },
    { type: 'conversation.item.done', previous_item_id: previousItemId, item: done },
  );
  return events;
}

/** Checks a `conversation.item.create`; returns the item to add, or the API's error. */
export function checkItemCreate(event: Record<string, unknown>): { item: Record<string, unknown> } | { error: FakeApiError } {
  const item = event.item;
  const bad = (param: string, message: string): { error: FakeApiError } => ({
    error: { type: 'invalid_request_error', code: 'invalid_value', message, param },
  });
  if (!isRecord(item)) {
    return { error: { type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'item'.", param: 'item' } };
  }
  if (item.type === 'function_call_output') {
    if (typeof item.call_id !== 'string' || item.call_id === '') return bad('item.call_id', "Invalid value for 'item.call_id'.");
    if (typeof item.output !== 'string') return bad('item.output', "Invalid type for 'item.output': expected a string.");
    return { item };
  }
  if (item.type === 'message' || item.type === 'function_call') return { item };
  return bad('item.type', `Invalid value: '${String(item.type)}'.`);
}

/** The transcription event of a committed user item. */
export function inputTranscriptionCompleted(itemId: string, transcript: string, seconds: number): Record<string, unknown> {
  return {
    type: 'conversation.item.input_audio_transcription.completed',
    item_id: itemId, content_index: 0, transcript, usage: { type: 'duration', seconds },
  };
}
