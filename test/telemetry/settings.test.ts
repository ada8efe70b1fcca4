import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readTelemetrySettings } from '../../src/telemetry/settings.js';
import { loadConfig } from '../../src/server/config.js';

function read(env: Record<string, string>) {
  const problems: string[] = [];
  return { settings: readTelemetrySettings(env, problems), problems };
}

describe('OTel settings from the environment', () => {
  test('nothing set: no endpoint, protobuf, service voicewire', () => {
    assert.deepEqual(read({}), {
      settings: { tracesUrl: undefined, tracesProtocol: 'http/protobuf', metricsUrl: undefined, metricsProtocol: 'http/protobuf', serviceName: 'voicewire', metricIntervalMs: 60_000 },
      problems: [],
    });
  });

  test('the generic endpoint is a base for /v1/traces and /v1/metrics; per-signal ones are used as is', () => {
    const { settings } = read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://m.example/otlp/metrics' });
    assert.equal(settings.tracesUrl, 'http://collector:4318/v1/traces');
    assert.equal(settings.metricsUrl, 'https://m.example/otlp/metrics');
    assert.equal(read({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/x' }).settings.metricsUrl, undefined);
  });

  test('protocols: generic and per signal; grpc is refused', () => {
    const { settings } = read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' });
    assert.equal(settings.tracesProtocol, 'http/json');
    assert.equal(settings.metricsProtocol, 'http/protobuf');
    assert.deepEqual(read({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).problems, ['OTEL_EXPORTER_OTLP_PROTOCOL="grpc" must be one of http/protobuf, http/json (grpc is not supported)']);
  });

  test('OTEL_SDK_DISABLED=true and OTEL_*_EXPORTER=none turn export off; bad values are problems', () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    assert.equal(read({ ...base, OTEL_SDK_DISABLED: 'true' }).settings.tracesUrl, undefined);
    assert.equal(read({ ...base, OTEL_SDK_DISABLED: 'TRUE' }).settings.metricsUrl, undefined);
    assert.equal(read({ ...base, OTEL_TRACES_EXPORTER: 'none' }).settings.tracesUrl, undefined);
    assert.equal(read({ ...base, OTEL_TRACES_EXPORTER: 'none' }).settings.metricsUrl, 'http://c:4318/v1/metrics');
    assert.deepEqual(read({ OTEL_SDK_DISABLED: 'yes' }).problems, ['OTEL_SDK_DISABLED="yes" must be true or false']);
    assert.deepEqual(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).problems, ['OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http(s) URL']);
    assert.deepEqual(read({ OTEL_METRIC_EXPORT_INTERVAL: '5' }).problems, ['OTEL_METRIC_EXPORT_INTERVAL="5" must be a whole number of ms in 100–3600000']);
  });

  test('OTEL_SERVICE_NAME; the gateway refuses to start on a bad OTel value', () => {
    assert.equal(read({ OTEL_SERVICE_NAME: 'vw-eu' }).settings.serviceName, 'vw-eu');
    const result = loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    assert.equal(result.ok, false);
  });
});
