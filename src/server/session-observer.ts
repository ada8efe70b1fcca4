/** Turns a session's reports into Prometheus metrics, labelled by call class (transport, backend). */
import type { GatewayMetrics } from './metrics.js';
import type { OtelMeasures } from './otel-measures.js';
import type { SessionObserver } from '../session/observer.js';

export function metricsObserver(metrics: GatewayMetrics, transport: string, otel?: OtelMeasures): SessionObserver {
  let labels = { transport, backend: 'unknown' };
  let started = false;
  return {
    started(_info, backend) {
      labels = { transport, backend };
      started = true;
      metrics.callsActive.inc(labels);
      metrics.callsTotal.inc(labels);
      otel?.callsActive.add(1, labels);
    },
    sample(s) {
      metrics.callerBufferedMs.observe(labels, s.callerBufferedMs);
      metrics.creditMs.observe(labels, s.creditMs);
      metrics.creditWindowMs.observe(labels, s.windowMs);
      metrics.queueDepthMs.observe(labels, s.queuedMs);
      metrics.bufferedAmountBytes.observe({ socket: 'model' }, s.modelBufferedBytes);
    },
    bargeIn(report) {
      metrics.bargeIns.inc(labels);
      metrics.truncateUncertaintyMs.observe(labels, Math.max(0, report.truncateUncertaintyMs));
      metrics.truncations.inc({ ...labels, source: report.truncateSource });
      otel?.bargeIns.add(1, labels);
    },
    silenced(report) {
      metrics.bargeInClearLatencyMs.observe(labels, report.bargeInToSilenceMs);
      otel?.bargeInClearLatencyMs.record(report.bargeInToSilenceMs, labels);
    },
    firstAudio(report) {
      metrics.firstAudioMs.observe(labels, report.firstAudioMs);
      otel?.firstAudioMs.record(report.firstAudioMs, labels);
    },
    turnLatency(_id, ms) {
      metrics.turnLatencyMs.observe(labels, ms);
      otel?.turnLatencyMs.record(ms, labels);
    },
    windowChanged(change) {
      metrics.creditWindowChanges.inc({ reason: change.reason });
      otel?.creditWindowChanges.add(1, { reason: change.reason });
    },
    underruns(count) {
      metrics.underruns.inc(labels, count);
    },
    dropped(reason, ms) {
      metrics.droppedAudioMs.inc({ reason }, ms);
      otel?.droppedAudioMs.add(ms, { reason });
    },
    responseCancelled(reason) {
      metrics.responsesCancelled.inc({ reason });
    },
    badInput(code) {
      metrics.badInputs.inc({ source: transport, code });
    },
    modelError(code) {
      metrics.modelErrors.inc({ code });
      otel?.modelErrors.add(1, { code });
    },
    ended(report) {
      if (!started) return;
      metrics.callsActive.dec(labels);
      metrics.callDurationSeconds.observe(labels, report.durationMs / 1000);
      const closeLabels = { transport, close_code: String(report.closeCode ?? 'none') };
      metrics.callsEnded.inc(closeLabels);
      otel?.callsActive.add(-1, labels);
      otel?.callDurationSeconds.record(report.durationMs / 1000, labels);
      otel?.callsEnded.add(1, closeLabels);
    },
  };
}
