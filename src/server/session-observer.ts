/** Turns a session's reports into Prometheus metrics, labelled by call class (transport, backend). */
import type { GatewayMetrics } from './metrics.js';
import type { OtelMeasures } from './otel-measures.js';
import type { BargeInReport, DropReason, EndReport, FirstAudioReport, SessionObserver, SessionSample, SilenceReport } from '../session/observer.js';
import type { CallStart } from '../transports/transport.js';
import type { WindowChange } from '../flow/window-tuner.js';

export function metricsObserver(metrics: GatewayMetrics, transport: string, otel?: OtelMeasures): SessionObserver {
  return new MetricsObserver(metrics, transport, otel);
}

/**
 * One per call, so a class: its methods live on the prototype instead of a closure per method and
 * call (≈ 14 closures and a context per call as an object literal).
 */
class MetricsObserver implements SessionObserver {
  private labels: { readonly transport: string; readonly backend: string };
  private isStarted = false;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly transport: string,
    private readonly otel: OtelMeasures | undefined,
  ) {
    this.labels = { transport, backend: 'unknown' };
  }

  started(_info: CallStart, backend: string): void {
    const labels = { transport: this.transport, backend };
    this.labels = labels;
    this.isStarted = true;
    this.metrics.callsActive.inc(labels);
    this.metrics.callsTotal.inc(labels);
    this.otel?.callsActive.add(1, labels);
  }

  sample(s: SessionSample): void {
    const { metrics, labels } = this;
    metrics.callerBufferedMs.observe(labels, s.callerBufferedMs);
    metrics.creditMs.observe(labels, s.creditMs);
    metrics.creditWindowMs.observe(labels, s.windowMs);
    metrics.queueDepthMs.observe(labels, s.queuedMs);
    metrics.bufferedAmountBytes.observe({ socket: 'model' }, s.modelBufferedBytes);
  }

  bargeIn(report: BargeInReport): void {
    const { metrics, labels } = this;
    metrics.bargeIns.inc(labels);
    metrics.truncateUncertaintyMs.observe(labels, Math.max(0, report.truncateUncertaintyMs));
    metrics.truncations.inc({ ...labels, source: report.truncateSource });
    this.otel?.bargeIns.add(1, labels);
  }

  localBargeIn(confirmed: boolean): void {
    const labels = { ...this.labels, confirmed: String(confirmed) };
    this.metrics.localBargeIns.inc(labels);
    this.otel?.localBargeIns.add(1, labels);
  }

  silenced(report: SilenceReport): void {
    this.metrics.bargeInClearLatencyMs.observe(this.labels, report.bargeInToSilenceMs);
    this.otel?.bargeInClearLatencyMs.record(report.bargeInToSilenceMs, this.labels);
  }

  firstAudio(report: FirstAudioReport): void {
    this.metrics.firstAudioMs.observe(this.labels, report.firstAudioMs);
    this.otel?.firstAudioMs.record(report.firstAudioMs, this.labels);
  }

  turnLatency(_id: string, ms: number): void {
    this.metrics.turnLatencyMs.observe(this.labels, ms);
    this.otel?.turnLatencyMs.record(ms, this.labels);
  }

  windowChanged(change: WindowChange): void {
    this.metrics.creditWindowChanges.inc({ reason: change.reason });
    this.otel?.creditWindowChanges.add(1, { reason: change.reason });
  }

  underruns(count: number): void {
    this.metrics.underruns.inc(this.labels, count);
  }

  dropped(reason: DropReason, ms: number): void {
    this.metrics.droppedAudioMs.inc({ reason }, ms);
    this.otel?.droppedAudioMs.add(ms, { reason });
  }

  responseCancelled(reason: string): void {
    this.metrics.responsesCancelled.inc({ reason });
  }

  badInput(code: string): void {
    this.metrics.badInputs.inc({ source: this.transport, code });
  }

  modelError(code: string): void {
    this.metrics.modelErrors.inc({ code });
    this.otel?.modelErrors.add(1, { code });
  }

  ended(report: EndReport): void {
    if (!this.isStarted) return;
    const { metrics, labels, otel } = this;
    metrics.callsActive.dec(labels);
    metrics.callDurationSeconds.observe(labels, report.durationMs / 1000);
    const closeLabels = { transport: this.transport, close_code: String(report.closeCode ?? 'none') };
    metrics.callsEnded.inc(closeLabels);
    otel?.callsActive.add(-1, labels);
    otel?.callDurationSeconds.record(report.durationMs / 1000, labels);
    otel?.callsEnded.add(1, closeLabels);
  }
}
