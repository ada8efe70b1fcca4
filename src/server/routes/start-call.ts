/** Shared by every transport route: wraps an accepted socket in a watched, registered call. */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { GatewayContext } from '../gateway.js';
import { ConnectionWatch } from '../connection-watch.js';
import { metricsObserver } from '../session-observer.js';
import { CallSession } from '../../session/call-session.js';
import type { CallerTransport } from '../../transports/transport.js';
import type { SessionObserver } from '../../session/observer.js';
import { vwError } from '../../errors.js';
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
  const baseObserver = metricsObserver(metrics, options.transportName);
  // Every later line of this call's transport and watchdog carries the call's ids, as the
  // session's own lines do (the ids are only known once the caller's `start` arrives).
  const tagLogger: SessionObserver = {
    started: (info) => options.logger.setBindings({ callSid: info.callId, streamSid: info.streamId }),
  };
  const extra = options.observer;
  const withIds = combineObservers(tagLogger, baseObserver);
  const observer: SessionObserver = extra ? combineObservers(withIds, extra) : withIds;
  const session = new CallSession({
    transport: options.transport,
    createModel: ctx.createModel,
    logger: options.logger,
    creditWindowMs: config.creditWindowMs,
    maxQueuedAudioMs: config.maxQueuedAudioMs,
    observer,
    ...(ctx.agent ? { agent: { services: ctx.agent, ...(options.transfer ? { transfer: options.transfer } : {}) } } : {}),
  });
  if (!ctx.calls.add(session)) {
    const error = vwError('VW_ERR_SERVER_FULL', ctx.config.maxCalls);
    options.logger.warn({ code: error.code }, 'call refused: gateway full');
    options.transport.close(error.closeCode ?? 1013, error.code);
    session.end('gateway full', error);
    return session;
  }
  const socketLabel = { socket: options.transportName };
  const watch = new ConnectionWatch(options.ws, {
    name: options.transportName,
    warnBytes: config.bufferedWarnBytes,
    cutoffBytes: config.slowConsumerBytes,
    cutoffMs: config.slowConsumerMs,
    heartbeatMs: config.heartbeatMs,
    onSample: (bytes) => metrics.bufferedAmountBytes.observe(socketLabel, bytes),
    onWarn: (bytes) => {
      metrics.bufferedWarnings.inc(socketLabel);
      options.logger.warn({ bufferedAmount: bytes, warnBytes: config.bufferedWarnBytes }, 'caller socket bufferedAmount past the warning level');
    },
    onHeartbeatMissed: (missed) => {
      metrics.heartbeatsMissed.inc(socketLabel);
      options.logger.warn({ missed }, 'caller missed a heartbeat');
    },
    onFatal: (error) => {
      if (error.code === 'VW_ERR_SLOW_CONSUMER') metrics.slowConsumerCutoffs.inc(socketLabel);
      options.logger.error({ code: error.code, err: error.message }, 'caller connection cut off');
      session.end(error.message, error);
    },
  });
  void session.ended.then(() => watch.stop());
  return session;
}

function combineObservers(a: SessionObserver, b: SessionObserver): SessionObserver {
  return {
    started: (info, backend) => (a.started?.(info, backend), b.started?.(info, backend)),
    sample: (sample) => (a.sample?.(sample), b.sample?.(sample)),
    bargeIn: (report) => (a.bargeIn?.(report), b.bargeIn?.(report)),
    dropped: (reason, ms) => (a.dropped?.(reason, ms), b.dropped?.(reason, ms)),
    responseCancelled: (reason) => (a.responseCancelled?.(reason), b.responseCancelled?.(reason)),
    badInput: (code) => (a.badInput?.(code), b.badInput?.(code)),
    modelError: (code) => (a.modelError?.(code), b.modelError?.(code)),
    transcript: (id, text) => (a.transcript?.(id, text), b.transcript?.(id, text)),
    ended: () => (a.ended?.(), b.ended?.()),
  };
}
