/** Turns a session's reports into Prometheus metrics, labelled by call class (transport, backend). */
import type { GatewayMetrics } from './metrics.js';
import type { SessionObserver } from '../session/observer.js';

export function metricsObserver(metrics: GatewayMetrics, transport: string): SessionObserver {
  let labels = { transport, backend: 'unknown' };
  let started = false;
  return {
    started(_info, backend) {
      labels = { transport, backend };
      started = true;
      metrics.callsActive.inc(labels);
      metrics.callsTotal.inc(labels);
    },
    sample(s) {
      metrics.callerBufferedMs.observe(labels, s.callerBufferedMs);
      metrics.creditMs.observe(labels, s.creditMs);
      metrics.queueDepthMs.observe(labels, s.queuedMs);
      metrics.bufferedAmountBytes.observe({ socket: 'model' }, s.modelBufferedBytes);
    },
    bargeIn(report) {
      metrics.bargeIns.inc(labels);
      metrics.bargeInClearLatencyMs.observe(labels, report.clearLatencyMs);
      metrics.truncateUncertaintyMs.observe(labels, Math.max(0, report.truncateUncertaintyMs));
    },
    dropped(reason, ms) {
      metrics.droppedAudioMs.inc({ reason }, ms);
    },
    responseCancelled(reason) {
      metrics.responsesCancelled.inc({ reason });
    },
    badInput(code) {
      metrics.badInputs.inc({ source: transport, code });
    },
    modelError(code) {
      metrics.modelErrors.inc({ code });
    },
    ended() {
      if (started) metrics.callsActive.dec(labels);
    },
  };
}
