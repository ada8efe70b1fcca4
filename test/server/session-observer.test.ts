import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayMetrics } from '../../src/server/metrics.js';
import { metricsObserver } from '../../src/server/session-observer.js';
import type { CallStart } from '../../src/transports/transport.js';
import type { SessionSample } from '../../src/session/observer.js';

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

  test('window changes are counted by reason in voicewire_credit_window_changes_total', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const observer = metricsObserver(metrics, 'twilio');
    observer.windowChanged?.({ windowMs: 1_000, previousMs: 800, reason: 'underrun', needMs: 1_000 });
    observer.windowChanged?.({ windowMs: 1_200, previousMs: 1_000, reason: 'underrun', needMs: 1_200 });
    observer.windowChanged?.({ windowMs: 1_150, previousMs: 1_200, reason: 'clean', needMs: 900 });
    const counts = Object.fromEntries((await values(metrics, 'voicewire_credit_window_changes_total')).map((v) => [v.labels.reason, v.value]));
    assert.deepEqual(counts, { underrun: 2, clean: 1 });
  });
});
