/**
 * One call as a trace: `voicewire.call` (root) ─┬─ `invoke_agent <backend>` (the model connection)
 *                                               └─ `voicewire.turn` ── `chat <model>` (each response)
 * A barge-in becomes the `voicewire.barge_in` event of the turn it interrupted, written once the
 * caller confirmed the clear (so it carries clear → silence), or at the next turn / call end
 * without that figure when no confirmation came. Spans live in this observer only; the session
 * knows nothing of OpenTelemetry.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { BargeInReport, SessionObserver } from '../session/observer.js';
import type { CallStart } from '../transports/transport.js';
import { callTraces } from '../telemetry/log-correlation.js';
import { callHandles } from '../telemetry/stage-tracing.js';

export interface CallTracerOptions {
  readonly tracer: Tracer;
  readonly transport: string;
  /** The model name a backend is configured with (gen_ai.request.model). */
  readonly modelName: (backend: string) => string;
}

/** gen_ai.provider.name per backend (semantic-conventions well-known values where one exists). */
const PROVIDERS: Readonly<Record<string, string>> = {
  'openai-realtime': 'openai',
  'gemini-live': 'gcp.gemini',
  'deepgram-agent': 'deepgram',
  'elevenlabs-agent': 'elevenlabs',
  cascade: 'voicewire.cascade',
};

/** Responses open at once on one call (an answer and a late one being cancelled); bounded. */
const MAX_OPEN_RESPONSES = 8;

export function callTracer(options: CallTracerOptions): SessionObserver {
  const { tracer } = options;
  let call: Span | undefined;
  let callCtx: Context = ROOT_CONTEXT;
  let callId: string | undefined;
  let connection: Span | undefined;
  let turn: Span | undefined;
  let turnCtx: Context = ROOT_CONTEXT;
  let genAi: Attributes = {};
  /** The interrupted turn, open until its barge-in is written (the report comes once the truncation point is settled). */
  let pendingBargeIn: { turn: Span; report: BargeInReport | undefined } | undefined;
  const responses = new Map<string, Span>();
  /** The context of the newest open response: where the cascade's stage spans go. */
  let responseCtx: Context | undefined;

  const flushBargeIn = (silence?: { clearToSilenceMs: number; bargeInToSilenceMs: number }): void => {
    if (!pendingBargeIn) return;
    const { turn: interrupted, report } = pendingBargeIn;
    pendingBargeIn = undefined;
    if (report === undefined) {
      interrupted.setAttribute('voicewire.turn.interrupted', true);
      interrupted.end();
      return;
    }
    interrupted.addEvent('voicewire.barge_in', {
      'voicewire.barge_in.trigger': report.trigger,
      'voicewire.barge_in.dropped_ms': report.droppedMs,
      'voicewire.barge_in.heard_ms': report.heardMs,
      'voicewire.barge_in.truncate_uncertainty_ms': report.truncateUncertaintyMs,
      'voicewire.barge_in.truncate_source': report.truncateSource,
      'voicewire.barge_in.estimate_at_barge_in_ms': report.estimateAtBargeInMs,
      'voicewire.barge_in.settled_after_ms': report.settledAfterMs,
      'voicewire.barge_in.epoch': report.epoch,
      ...(report.truncate ? { 'voicewire.barge_in.truncate_item_id': report.truncate.itemId, 'voicewire.barge_in.truncate_audio_end_ms': report.truncate.audioEndMs } : {}),
      ...(silence
        ? { 'voicewire.barge_in.clear_to_silence_ms': silence.clearToSilenceMs, 'voicewire.barge_in.to_silence_ms': silence.bargeInToSilenceMs }
        : {}),
    });
    interrupted.setAttribute('voicewire.turn.interrupted', true);
    interrupted.end();
  };
  const endTurn = (): void => {
    if (turn === undefined) return;
    // An interrupted turn stays open until its barge-in is written.
    if (pendingBargeIn?.turn !== turn) turn.end();
    turn = undefined;
    turnCtx = callCtx;
  };
  const startTurn = (): void => {
    endTurn();
    responseCtx = undefined;
    turn = tracer.startSpan('voicewire.turn', { kind: SpanKind.INTERNAL }, callCtx);
    turnCtx = trace.setSpan(callCtx, turn);
  };

  /** The root span, from the caller's start (the setup webhook is already part of the call). */
  const startCall = (info: CallStart): void => {
    if (call !== undefined) return;
    call = tracer.startSpan('voicewire.call', {
      kind: SpanKind.SERVER,
      root: true,
      attributes: {
        'voicewire.transport': options.transport,
        'voicewire.call_id': info.callId,
        'voicewire.stream_id': info.streamId,
      },
    });
    callCtx = trace.setSpan(ROOT_CONTEXT, call);
    turnCtx = callCtx;
    const ids = call.spanContext();
    if (call.isRecording()) {
      callId = info.callId;
      callTraces.set(info.callId, { trace_id: ids.traceId, span_id: ids.spanId });
      callHandles.register(info.callId, { tracer, context: () => responseCtx ?? turnCtx });
    }
  };

  return {
    starting(info) {
      startCall(info);
    },
    started(info, backend, windowMs) {
      startCall(info);
      const model = options.modelName(backend);
      genAi = {
        'gen_ai.provider.name': PROVIDERS[backend] ?? backend,
        'gen_ai.system': PROVIDERS[backend] ?? backend,
        'gen_ai.request.model': model,
      };
      call?.setAttributes({ 'voicewire.backend': backend, 'voicewire.credit_window_ms': windowMs });
      connection = tracer.startSpan(`invoke_agent ${model}`, { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'invoke_agent', ...genAi } }, callCtx);
    },
    speechStarted() {
      startTurn();
    },
    bargeInStarted() {
      // Before speechStarted: the current turn is the one whose answer was interrupted.
      flushBargeIn();
      if (turn) pendingBargeIn = { turn, report: undefined };
    },
    bargeIn(report) {
      if (pendingBargeIn !== undefined && pendingBargeIn.report === undefined) {
        pendingBargeIn.report = report;
        return;
      }
      flushBargeIn();
      if (turn) pendingBargeIn = { turn, report };
    },
    silenced(report) {
      flushBargeIn(report);
    },
    turnLatency(_id, ms) {
      turn?.setAttribute('voicewire.turn.latency_ms', ms);
    },
    firstAudio(report) {
      turn?.setAttribute('voicewire.turn.first_audio_ms', report.firstAudioMs);
    },
    responseStarted(responseId) {
      if (turn === undefined) startTurn(); // the greeting: an answer nobody asked for
      if (responses.size >= MAX_OPEN_RESPONSES) return;
      const span = tracer.startSpan(
        `chat ${String(genAi['gen_ai.request.model'])}`,
        { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.response.id': responseId, ...genAi } },
        turnCtx,
      );
      responses.set(responseId, span);
      responseCtx = trace.setSpan(turnCtx, span);
    },
    responseDone(responseId, status, usage) {
      const span = responses.get(responseId);
      if (!span) return;
      responses.delete(responseId);
      if (responses.size === 0) responseCtx = undefined;
      span.setAttribute('gen_ai.response.finish_reasons', [status]);
      if (usage !== undefined) {
        span.setAttributes({ 'gen_ai.usage.input_tokens': usage.inputTokens, 'gen_ai.usage.output_tokens': usage.outputTokens });
      }
      span.end();
    },
    modelError(code) {
      connection?.addEvent('voicewire.model_error', { 'error.type': code });
    },
    ended(report) {
      flushBargeIn();
      for (const span of responses.values()) {
        span.setAttribute('gen_ai.response.finish_reasons', ['call_ended']);
        span.end();
      }
      responses.clear();
      endTurn();
      const attrs: Attributes = {
        'voicewire.end_reason': report.reason,
        ...(report.closeCode === undefined ? {} : { 'voicewire.close_code': report.closeCode }),
        ...(report.code === undefined ? {} : { 'error.type': report.code }),
      };
      if (report.code !== undefined) {
        connection?.setStatus({ code: SpanStatusCode.ERROR, message: report.code });
        call?.setStatus({ code: SpanStatusCode.ERROR, message: report.code });
      }
      connection?.end();
      call?.setAttributes(attrs);
      call?.end();
      if (callId !== undefined) {
        callTraces.delete(callId);
        callHandles.forget(callId);
      }
    },
  };
}
