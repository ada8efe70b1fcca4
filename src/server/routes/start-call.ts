/** Shared by every transport route: wraps an accepted socket in a watched, registered call. */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { GatewayContext } from '../gateway.js';
import { ConnectionWatch, type ConnectionWatchOptions } from '../connection-watch.js';
import { metricsObserver } from '../session-observer.js';
import { callTracer } from '../call-tracer.js';
import { measuresFor } from '../otel-measures.js';
import { exportStats, readStats } from '../stats-export.js';
import { requestModelName } from '../model-names.js';
import { CallSession } from '../../session/call-session.js';
import type { CallerTransport, CallStart } from '../../transports/transport.js';
import { ObserverPair, type SessionObserver } from '../../session/observer.js';
import { vwError, type VoicewireError } from '../../errors.js';
import { AdmittedTransport } from '../admission.js';
import type { TransferCall } from '../../agent/services.js';

export interface StartCallOptions {
  readonly ws: WebSocket;
  readonly transport: CallerTransport;
  readonly transportName: string;
  readonly logger: Logger;
  /** Extra observer (the browser route forwards stats to the page). */
  readonly observer?: SessionObserver;
  /** How this transport hands a call on (`transfer_call`); absent: never offered. */
  readonly transfer?: TransferCall;
}

export function startCall(ctx: GatewayContext, options: StartCallOptions): CallSession {
  const { config, metrics } = ctx;
  const baseObserver = metricsObserver(metrics, options.transportName, measuresFor(ctx.telemetry.meter));
  // Every later line of this call's transport, watchdog and session carries the call's ids (only
  // known once the caller's `start` arrives): the session logs with this logger once it has them.
  const tagLogger = new LogTagger(options.logger);
  const extra = options.observer;
  const measured = new ObserverPair(tagLogger, baseObserver);
  // With no endpoint the tracer is the API's no-op one: no spans, no call ids kept for logs.
  const withIds = ctx.telemetry.tracing
    ? new ObserverPair(
        callTracer({ tracer: ctx.telemetry.tracer, transport: options.transportName, modelName: (backend) => requestModelName(config, backend) }),
        measured,
      )
    : measured;
  const observer: SessionObserver = extra ? new ObserverPair(withIds, extra) : withIds;
  /** MAX_CALL_MS, from the call's start (`admit`) to its end. */
  let maxCallTimer: NodeJS.Timeout | undefined;
  const transport: AdmittedTransport = new AdmittedTransport(options.transport, (): VoicewireError | undefined => {
    const admitted = admit(ctx, session, options.logger);
    if (admitted instanceof Error) return admitted;
    maxCallTimer = admitted;
    return undefined;
  }, (error) => {
    if (error?.code === 'VW_ERR_START_TIMEOUT') metrics.refused.inc({ reason: 'start-timeout' });
  });
  const session: CallSession = new CallSession({
    transport,
    createModel: ctx.createModel,
    logger: options.logger,
    creditWindowMs: config.creditWindowMs,
    adaptiveWindow: config.creditWindowAuto,
    maxQueuedAudioMs: config.maxQueuedAudioMs,
    startCushionMs: config.startCushionMs,
    startHoldMs: config.startHoldMs,
    localBargeInMs: config.localBargeInMs,
    localBargeInHoldMs: config.localBargeInHoldMs,
    observer,
    ...(ctx.agent ? { agent: { services: ctx.agent, ...(options.transfer ? { transfer: options.transfer } : {}) } } : {}),
  });
  if (!ctx.calls.addPending(session)) {
    // The gateway checks the pending cap before the upgrade; this is the race between two upgrades.
    const error = vwError('VW_ERR_PENDING_FULL', ctx.calls.pendingSize);
    metrics.refused.inc({ reason: 'pending-full' });
    options.logger.warn({ code: error.code }, 'call refused: too many sockets waiting for their start');
    session.closeCall(vwError('VW_ERR_SERVER_FULL', config.maxCalls));
    return session;
  }
  transport.open();
  const watch = new ConnectionWatch(options.ws, new CallerWatchOptions(ctx, options.transportName, options.logger, session));
  // One reaction to the call's end for everything startCall set up (each `then` is ≈ 150 bytes a call).
  void session.ended.then(() => {
    clearTimeout(maxCallTimer);
    watch.stop();
    exportStats(metrics.transportStats, { transport: options.transportName }, readStats(options.transport));
    const model = session.modelSession;
    if (model) exportStats(metrics.modelStats, { backend: model.backend }, readStats(model));
  });
  return session;
}

/** At `start`: a live-call slot (MAX_CALLS) and the MAX_CALL_MS timer (the caller clears it at the end), or the reason to refuse. */
function admit(ctx: GatewayContext, session: CallSession, logger: Logger): VoicewireError | NodeJS.Timeout {
  const { config, metrics } = ctx;
  if (!ctx.calls.admit(session)) {
    const error = vwError('VW_ERR_SERVER_FULL', config.maxCalls);
    metrics.refused.inc({ reason: 'full' });
    logger.warn({ code: error.code }, 'call refused at start: gateway full');
    return error;
  }
  const maxCallMs = config.fleet.maxCallMs;
  const timer = setTimeout(() => {
    metrics.callsEndedByLimit.inc({ reason: 'max-call-ms' });
    logger.warn({ code: 'VW_ERR_CALL_TOO_LONG', maxCallMs }, 'call reached MAX_CALL_MS: ending it');
    session.closeCall(vwError('VW_ERR_CALL_TOO_LONG', maxCallMs));
  }, maxCallMs);
  timer.unref();
  return timer;
}

/** Tags the call's own logger with the call's ids when its `start` arrives. */
class LogTagger implements SessionObserver {
  constructor(private readonly logger: Logger) {}

  starting(info: CallStart): void {
    this.logger.setBindings({ callSid: info.callId, streamSid: info.streamId });
  }
}

/** The caller socket's watch settings and reports (one per call: a class, not four closures). */
class CallerWatchOptions implements ConnectionWatchOptions {
  readonly warnBytes: number;
  readonly cutoffBytes: number;
  readonly cutoffMs: number;
  readonly heartbeatMs: number;
  private readonly socketLabel: { readonly socket: string };

  constructor(
    private readonly ctx: GatewayContext,
    readonly name: string,
    private readonly logger: Logger,
    private readonly session: CallSession,
  ) {
    const { config } = ctx;
    this.warnBytes = config.bufferedWarnBytes;
    this.cutoffBytes = config.slowConsumerBytes;
    this.cutoffMs = config.slowConsumerMs;
    this.heartbeatMs = config.heartbeatMs;
    this.socketLabel = { socket: name };
  }

  onSample(bytes: number): void {
    this.ctx.metrics.bufferedAmountBytes.observe(this.socketLabel, bytes);
  }

  onWarn(bytes: number): void {
    this.ctx.metrics.bufferedWarnings.inc(this.socketLabel);
    this.logger.warn({ bufferedAmount: bytes, warnBytes: this.warnBytes }, 'caller socket bufferedAmount past the warning level');
  }

  onHeartbeatMissed(missed: number): void {
    this.ctx.metrics.heartbeatsMissed.inc(this.socketLabel);
    this.logger.warn({ missed }, 'caller missed a heartbeat');
  }

  onFatal(error: VoicewireError): void {
    if (error.code === 'VW_ERR_SLOW_CONSUMER') this.ctx.metrics.slowConsumerCutoffs.inc(this.socketLabel);
    this.logger.error({ code: error.code, err: error.message }, 'caller connection cut off');
    this.session.end(error.message, error);
  }
}
