import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics } from '../../src/server/metrics.js';
import { metricsObserver } from '../../src/server/session-observer.js';
import { measuresFor } from '../../src/server/otel-measures.js';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { CallStart } from '../../src/transports/transport.js';
import type { SessionSample } from '../../src/session/observer.js';

/** Collects on demand (no export timer). */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const SAMPLE: SessionSample = {
  creditMs: 300, windowMs: 1_000, callerBufferedMs: 700, queuedMs: 0, epoch: 0, transportBufferedBytes: 0, modelBufferedBytes: 0,
};

async function values(metrics: GatewayMetrics, name: string): Promise<Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

describe('metricsObserver: credit window', () => {
  test("each sample observes the call's window in voicewire_credit_window_ms, labelled by call class", async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const observer = metricsObserver(metrics, 'twilio');
    observer.started?.({} as CallStart, 'openai-realtime', 800);
    observer.sample?.(SAMPLE);
    observer.sample?.({ ...SAMPLE, windowMs: 450 });
    const all = await values(metrics, 'voicewire_credit_window_ms');
    const labels = { transport: 'twilio', backend: 'openai-realtime' };
    const find = (metricName: string, le?: number) =>
      all.find((v) => v.metricName === metricName && v.labels.transport === labels.transport && v.labels.backend === labels.backend && (le === undefined || v.labels.le === le))?.value;
    assert.deepEqual(
      [find('voicewire_credit_window_ms_count'), find('voicewire_credit_window_ms_sum'), find('voicewire_credit_window_ms_bucket', 500), find('voicewire_credit_window_ms_bucket', 900)],
      [2, 1_450, 1, 1],
    );
  });

  test('window changes are counted by reason in voicewire_credit_window_changes_total, in Prometheus and OpenTelemetry', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const reader = new ManualReader();
    const provider = new MeterProvider({ readers: [reader] });
    const observer = metricsObserver(metrics, 'twilio', measuresFor(provider.getMeter('test')));
    observer.windowChanged?.({ windowMs: 1_000, previousMs: 800, reason: 'underrun', needMs: 1_000 });
    observer.windowChanged?.({ windowMs: 1_200, previousMs: 1_000, reason: 'underrun', needMs: 1_200 });
    observer.windowChanged?.({ windowMs: 1_150, previousMs: 1_200, reason: 'clean', needMs: 900 });
    const counts = Object.fromEntries((await values(metrics, 'voicewire_credit_window_changes_total')).map((v) => [v.labels.reason, v.value]));
    assert.deepEqual(counts, { underrun: 2, clean: 1 });
    const { resourceMetrics } = await reader.collect();
    const otel = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'voicewire_credit_window_changes_total');
    assert.ok(otel, 'the OpenTelemetry counter exists');
    assert.deepEqual(Object.fromEntries(otel.dataPoints.map((p) => [p.attributes.reason, p.value])), { underrun: 2, clean: 1 });
    await provider.shutdown();
  });
});

describe('metricsObserver: local barge-in', () => {
  test('settled local barge-ins are counted by confirmation in voicewire_local_barge_ins_total, in Prometheus and OpenTelemetry', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const reader = new ManualReader();
    const provider = new MeterProvider({ readers: [reader] });
    const observer = metricsObserver(metrics, 'twilio', measuresFor(provider.getMeter('test')));
    observer.started?.({} as CallStart, 'openai-realtime', 800);
    observer.localBargeIn?.(true);
    observer.localBargeIn?.(true);
    observer.localBargeIn?.(false);
    const counts = (await values(metrics, 'voicewire_local_barge_ins_total')).map((v) => [v.labels.transport, v.labels.backend, v.labels.confirmed, v.value]);
    assert.deepEqual(counts, [['twilio', 'openai-realtime', 'true', 2], ['twilio', 'openai-realtime', 'false', 1]]);
    const { resourceMetrics } = await reader.collect();
    const otel = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'voicewire_local_barge_ins_total');
    assert.ok(otel, 'the OpenTelemetry counter exists');
    assert.deepEqual(Object.fromEntries(otel.dataPoints.map((p) => [p.attributes.confirmed, p.value])), { true: 2, false: 1 });
    await provider.shutdown();
  });
});
