/**
 * Spans and `traceparent` for the outgoing HTTP requests of a call (the cascade's STT, LLM and
 * TTS stages). A stage request only knows the AbortSignal of its turn; the turn binds that signal
 * to its call, and the call's tracer (server/call-tracer.ts) registers where its spans go. Without
 * tracing nothing is registered and `startStage` returns undefined: no span, no header.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export interface CallTraceHandle {
  readonly tracer: Tracer;
  /** Where a stage span of this call goes now (the current response, else the turn, else the call). */
  context(): Context;
}

export interface StageSpan {
  /** `traceparent` (and `tracestate`) to send with the request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Ends the span; `error` (a VW_ERR_* error, an HTTP status, a failure name) marks it failed. */
  end(error?: unknown): void;
}

const MAX_CALLS = 100_000;
const calls = new Map<string, CallTraceHandle>();
const signals = new WeakMap<AbortSignal, string>();
const propagator = new W3CTraceContextPropagator();

export const callHandles = {
  register(callId: string, handle: CallTraceHandle): void {
    if (calls.size < MAX_CALLS || calls.has(callId)) calls.set(callId, handle);
  },
  forget(callId: string): void {
    calls.delete(callId);
  },
  get size(): number {
    return calls.size;
  },
};

/** Ties a turn's AbortSignal to its call, so the turn's stage requests are traced in that call. */
export function bindStageSignal(signal: AbortSignal, callId: string): void {
  if (calls.size > 0) signals.set(signal, callId);
}

/** A signal derived from `parent` (a stage's own controller) belongs to the same call. */
export function inheritStageSignal(child: AbortSignal, parent: AbortSignal): void {
  const callId = signals.get(parent);
  if (callId !== undefined) signals.set(child, callId);
}

/** Starts the span of one stage request (`stt`, `llm`, `tts`), or undefined when the call is not traced. */
export function startStage(stage: string, signal: AbortSignal | undefined, url: string): StageSpan | undefined {
  if (signal === undefined || calls.size === 0) return undefined;
  const callId = signals.get(signal);
  return callId === undefined ? undefined : startCallSpan(callId, stage, { 'voicewire.stage': stage, ...httpAttributes(url) });
}

/** `http.request.method` and `server.address` of a POST to `url`. */
export function httpAttributes(url: string): Attributes {
  try {
    return { 'http.request.method': 'POST', 'server.address': new URL(url).host };
  } catch {
    return { 'http.request.method': 'POST' };
  }
}

/**
 * A client span of call `callId` (a tool call, the setup webhook) under the call's current
 * context, with the `traceparent` to send; undefined when the call is not traced.
 */
export function startCallSpan(callId: string, name: string, attributes: Attributes): StageSpan | undefined {
  const handle = calls.size === 0 ? undefined : calls.get(callId);
  if (handle === undefined) return undefined;
  const span = handle.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, handle.context());
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(handle.context(), span), headers, headerSetter);
  let ended = false;
  return {
    headers,
    end(error?: unknown) {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorText(error) });
      }
      span.end();
    },
  };
}

/** The VW_ERR_* code of a stage error, an error's message, or `HTTP <status>`. */
function errorText(error: unknown): string {
  if (typeof error === 'number') return `HTTP ${error}`;
  if (typeof error === 'string') return error;
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? code : error.message;
  }
  return 'error';
}

const headerSetter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};
