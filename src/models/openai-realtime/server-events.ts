/**
 * Maps Realtime server events to `ModelEvents`, one named handler per event type. The table is
 * exhaustive over the codec's known types (`satisfies`), so adding a type to protocol.ts makes the
 * compiler ask what the client does with it. Nothing here throws on wire input: a malformed frame
 * is raised as a coded `ModelEvents.error` (the call goes on), an unknown type is counted and
 * logged at debug (the API adds events).
 */
import { bytesToMs } from '../../audio/format.js';
import { vwError, type VoicewireError } from '../../errors.js';
import type { ModelEvents, ModelToolCall } from '../model.js';
import type { ResolvedOptions } from './options.js';
import { parseServerEvent, type ServerEventOf, type ServerEventType } from './protocol.js';
import type { ResponseTracker } from './responses.js';
import type { AudioDeltaFastPath } from './delta-fast-path.js';
import type { DeltaAudio } from './delta-audio.js';
import { realtimeUsage } from '../shared/token-usage.js';

/** Counters the handlers keep (the session reports them in its stats). */
export interface Counters {
  outputMs: number;
  droppedDeltas: number;
  malformedEvents: number;
  unknownEvents: number;
}

/**
 * What the handlers may touch, handed in by the session as closures over its private state (the
 * session exposes none of it): the handlers depend on this interface only, never on the session.
 */
export interface EventContext {
  readonly options: ResolvedOptions;
  readonly responses: ResponseTracker;
  readonly counters: Counters;
  events(): ModelEvents | undefined;
  /** Reads audio deltas without JSON.parse (the session's: it keeps the last ids). */
  readonly deltaFastPath: AudioDeltaFastPath;
  /** Decodes deltas from the wire format into fresh caller-format buffers. */
  readonly deltaAudio: DeltaAudio;
  resetOutput(): void;
  sessionUpdated(): void;
  /** The server VAD started (true) or stopped (false) hearing the caller's speech. */
  callerSpeech(speaking: boolean): void;
  /** The server VAD committed the caller's turn (the gateway creates the answer: see client.ts). */
  committed(): void;
  /** A response is over (`response.done`): a held `response.create` may go now. */
  responseEnded(): void;
  /** A frame that is not a valid event: raised as a coded `ModelEvents.error`, logged thinly. */
  malformed(error: VoicewireError): void;
  /** Routes an `error` event: true when it answered the pending session.update (connect fails). */
  eventError(eventId: string | undefined, error: VoicewireError): boolean;
  /** The session's audio handler rejected (`onAudioHandlerFailed` with this context). */
  readonly audioFailed: (err: unknown) => void;
}

type Handler<T extends ServerEventType> = (ctx: EventContext, event: ServerEventOf<T>) => void;
type HandlerTable = { [T in ServerEventType]: Handler<T> };

export function handleServerEvent(ctx: EventContext, text: string | undefined): void {
  if (text === undefined) {
    ctx.malformed(vwError('VW_ERR_BINARY_FRAME'));
    return;
  }
  // Most frames are audio deltas: read in place when they have the API's layout (else parsed in full).
  const delta = ctx.deltaFastPath.read(text, ctx.deltaAudio.target);
  if (delta !== undefined) {
    onAudioDelta(ctx, delta.event, delta.wire);
    return;
  }
  const parsed = parseServerEvent(text);
  switch (parsed.kind) {
    case 'invalid':
      ctx.malformed(parsed.error);
      return;
    case 'unknown':
      // Not an error: the API adds event types; counted and logged at debug.
      ctx.counters.unknownEvents++;
      ctx.options.logger.debug({ type: parsed.type }, 'unknown model event ignored');
      return;
    case 'event': {
      const event = parsed.event;
      // The table's key and the event's type agree by construction; TS cannot correlate them.
      (HANDLERS[event.type] as Handler<typeof event.type>)(ctx, event);
      return;
    }
  }
}

function ignore(): void {
  // Events the gateway has no use for (item bookkeeping, rate limits, transcript totals).
}

function onSessionUpdated(ctx: EventContext): void {
  ctx.sessionUpdated();
}

function onSpeechStarted(ctx: EventContext): void {
  ctx.callerSpeech(true);
  ctx.events()?.speechStarted();
}

function onSpeechStopped(ctx: EventContext): void {
  ctx.callerSpeech(false);
  ctx.events()?.speechStopped();
}

function onCommitted(ctx: EventContext): void {
  ctx.committed();
}

function onResponseCreated(ctx: EventContext, event: ServerEventOf<'response.created'>): void {
  const replaced = ctx.responses.onCreated(event.response.id);
  if (replaced !== undefined) {
    ctx.options.logger.warn({ replaced, responseId: event.response.id }, 'response created while another was active');
  }
  ctx.resetOutput();
  ctx.events()?.responseStarted(event.response.id);
}

/** `wire`: the delta already decoded by the fast path (then `event.delta` is known to be valid base64). */
function onAudioDelta(ctx: EventContext, event: ServerEventOf<'response.output_audio.delta'>, wire?: Uint8Array): void {
  const verdict = ctx.responses.delta(event.response_id, event.item_id, event.content_index);
  if (!verdict.deliver) {
    ctx.counters.droppedDeltas++;
    return;
  }
  if (verdict.newSentence) ctx.resetOutput();
  const bytes = wire === undefined ? ctx.deltaAudio.decode(event.delta) : ctx.deltaAudio.toCallerFormat(wire);
  if (bytes === undefined) {
    ctx.malformed(vwError('VW_ERR_BAD_FIELD', 'response.output_audio.delta.delta (not base64)'));
    return;
  }
  if (bytes.length === 0) return;
  const durationMs = bytesToMs(ctx.options.callerFormat, bytes.length);
  ctx.counters.outputMs += durationMs;
  const events = ctx.events();
  if (events === undefined) return;
  const chunk = { responseId: event.response_id, itemId: event.item_id, sentenceId: verdict.sentenceId, bytes, durationMs };
  // Realtime cannot be paused: the socket must keep being read, so the promise is not awaited.
  // Its rejection is still a failure someone must see.
  try {
    void events.audio(chunk).catch(ctx.audioFailed);
  } catch (err) {
    ctx.audioFailed(err);
  }
}

/** What `EventContext.audioFailed` does (one function per session, not a closure per delta). */
export function onAudioHandlerFailed(ctx: EventContext, err: unknown): void {
  ctx.options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'audio handler failed');
}

function onAudioDone(ctx: EventContext, event: ServerEventOf<'response.output_audio.done'>): void {
  const sentenceId = ctx.responses.endOfAudio(event.response_id, event.item_id, event.content_index);
  if (sentenceId !== undefined) ctx.events()?.sentenceEnd(event.response_id, sentenceId);
}

function onOutputItemDone(ctx: EventContext, event: ServerEventOf<'response.output_item.done'>): void {
  const itemId = event.item.id;
  if (typeof itemId !== 'string') return;
  const sentenceId = ctx.responses.endOfAudio(event.response_id, itemId);
  if (sentenceId !== undefined) ctx.events()?.sentenceEnd(event.response_id, sentenceId);
}

function onTranscriptDelta(ctx: EventContext, event: ServerEventOf<'response.output_audio_transcript.delta'>): void {
  if (event.response_id !== ctx.responses.activeId || ctx.responses.isInterrupted(event.response_id)) return;
  ctx.events()?.transcript(event.response_id, event.delta);
}

function onResponseDone(ctx: EventContext, event: ServerEventOf<'response.done'>): void {
  const id = event.response.id;
  const interrupted = ctx.responses.isInterrupted(id);
  const open = ctx.responses.onDone(id);
  if (open !== undefined) ctx.events()?.sentenceEnd(id, open);
  ctx.responseEnded();
  // `usage` is read leniently outside the validated fields: a malformed one must not lose the event.
  ctx.events()?.responseDone(id, event.response.status, realtimeUsage((event.response as Record<string, unknown>).usage));
  // Function calls are acted on once their response is done: only then are the arguments final
  // (`.done` is also sent for a cancelled response) and may a follow-up response be created.
  if (event.response.status !== 'completed' || interrupted) return;
  const calls = functionCalls(id, event.response.output ?? []);
  if (calls.length > 0) ctx.events()?.toolCalls?.(calls);
}

/** The completed `function_call` items of a response's output, in order. */
function functionCalls(responseId: string, output: readonly unknown[]): ModelToolCall[] {
  const calls: ModelToolCall[] = [];
  for (const item of output) {
    if (typeof item !== 'object' || item === null) continue;
    const { type, status, call_id: callId, name, arguments: args } = item as Record<string, unknown>;
    if (type !== 'function_call' || (status !== undefined && status !== 'completed')) continue;
    if (typeof callId !== 'string' || typeof name !== 'string' || typeof args !== 'string') continue;
    calls.push({ responseId, callId, name, arguments: args });
  }
  return calls;
}

function onInputTranscript(ctx: EventContext, event: ServerEventOf<'conversation.item.input_audio_transcription.completed'>): void {
  ctx.events()?.callerTranscript?.(event.item_id, event.transcript);
}

function onInputTranscriptFailed(ctx: EventContext, event: ServerEventOf<'conversation.item.input_audio_transcription.failed'>): void {
  ctx.options.logger.warn({ itemId: event.item_id, code: event.error.code, err: event.error.message }, 'caller transcription failed');
}

function onError(ctx: EventContext, event: ServerEventOf<'error'>): void {
  const details = event.error;
  const code = details.code ?? details.type;
  if (code === 'response_cancel_not_active') {
    // Harmless: the response ended (e.g. a VAD auto-cancel) before our cancel arrived.
    ctx.options.logger.debug({ code, eventId: details.event_id }, 'cancel found no active response');
    return;
  }
  const error = vwError('VW_ERR_MODEL_EVENT', code, details.message);
  // The model's own fields, for code that must branch on them (never on the message text).
  error.cause = { type: details.type, code: details.code ?? null, param: details.param ?? null, eventId: details.event_id ?? null };
  if (ctx.eventError(details.event_id ?? undefined, error)) return;
  ctx.options.logger.warn({ code, type: details.type, param: details.param, eventId: details.event_id, err: details.message }, 'model error');
  ctx.events()?.error(error);
}

const HANDLERS = {
  'session.created': ignore,
  'session.updated': onSessionUpdated,
  'input_audio_buffer.speech_started': onSpeechStarted,
  'input_audio_buffer.speech_stopped': onSpeechStopped,
  'input_audio_buffer.committed': onCommitted,
  'input_audio_buffer.cleared': ignore,
  'input_audio_buffer.timeout_triggered': ignore,
  'conversation.item.added': ignore,
  'conversation.item.done': ignore,
  'conversation.item.created': ignore,
  'conversation.item.truncated': ignore,
  'conversation.item.deleted': ignore,
  'conversation.item.input_audio_transcription.completed': onInputTranscript,
  'conversation.item.input_audio_transcription.failed': onInputTranscriptFailed,
  'response.created': onResponseCreated,
  'response.done': onResponseDone,
  'response.output_item.added': ignore,
  'response.output_item.done': onOutputItemDone,
  'response.function_call_arguments.delta': ignore,
  'response.function_call_arguments.done': ignore,
  'response.content_part.added': ignore,
  'response.content_part.done': ignore,
  'response.output_audio.delta': onAudioDelta,
  'response.output_audio.done': onAudioDone,
  'response.output_audio_transcript.delta': onTranscriptDelta,
  'response.output_audio_transcript.done': ignore,
  'rate_limits.updated': ignore,
  error: onError,
} satisfies HandlerTable;
