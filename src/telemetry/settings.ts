/**
 * The standard OpenTelemetry environment, read once and validated with the rest of the
 * configuration (src/server/config.ts). Only what decides *whether* and *where* to export is read
 * here; everything else (headers, timeouts, compression, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES)
 * is left to the SDK's own env parsing.
 */

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TelemetrySettings {
  /** Where spans go (full URL of the traces endpoint); undefined: no tracing at all. */
  readonly tracesUrl: string | undefined;
  readonly tracesProtocol: OtlpProtocol;
  /** Where metrics go (full URL of the metrics endpoint); undefined: Prometheus only. */
  readonly metricsUrl: string | undefined;
  readonly metricsProtocol: OtlpProtocol;
  readonly serviceName: string;
  /** OTEL_METRIC_EXPORT_INTERVAL (ms), default 60 000. */
  readonly metricIntervalMs: number;
}

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];

/** Reads the OTel variables from `env`; appends a message per bad value to `problems`. */
export function readTelemetrySettings(env: Readonly<Record<string, string | undefined>>, problems: string[]): TelemetrySettings {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const disabled = value('OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) {
    problems.push(`OTEL_SDK_DISABLED=${JSON.stringify(disabled)} must be true or false`);
  }
  const off = disabled?.toLowerCase() === 'true';
  const protocol = (name: string, fallback: OtlpProtocol): OtlpProtocol => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!PROTOCOLS.includes(raw)) {
      problems.push(`${name}=${JSON.stringify(raw)} must be one of ${PROTOCOLS.join(', ')} (grpc is not supported)`);
      return fallback;
    }
    return raw as OtlpProtocol;
  };
  const url = (name: string, raw: string | undefined): string | undefined => {
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
      return raw;
    } catch {
      problems.push(`${name}=${JSON.stringify(raw)} is not an http(s) URL`);
      return undefined;
    }
  };
  // The spec: the generic endpoint is a base to which /v1/<signal> is appended; a per-signal
  // endpoint is used as is.
  const base = url('OTEL_EXPORTER_OTLP_ENDPOINT', value('OTEL_EXPORTER_OTLP_ENDPOINT'));
  const signalUrl = (signal: 'traces' | 'metrics'): string | undefined => {
    const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
    const own = url(name, value(name));
    if (own !== undefined) return own;
    return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/${signal}`;
  };
  const common = protocol('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf');
  const intervalRaw = value('OTEL_METRIC_EXPORT_INTERVAL');
  let metricIntervalMs = 60_000;
  if (intervalRaw !== undefined) {
    const n = Number(intervalRaw);
    if (!Number.isInteger(n) || n < 100 || n > 3_600_000) problems.push(`OTEL_METRIC_EXPORT_INTERVAL=${JSON.stringify(intervalRaw)} must be a whole number of ms in 100–3600000`);
    else metricIntervalMs = n;
  }
  const tracesUrl = signalUrl('traces');
  const metricsUrl = signalUrl('metrics');
  const tracesOff = value('OTEL_TRACES_EXPORTER') === 'none';
  const metricsOff = value('OTEL_METRICS_EXPORTER') === 'none';
  return {
    tracesUrl: off || tracesOff ? undefined : tracesUrl,
    tracesProtocol: protocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', common),
    metricsUrl: off || metricsOff ? undefined : metricsUrl,
    metricsProtocol: protocol('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', common),
    serviceName: value('OTEL_SERVICE_NAME') ?? 'voicewire',
    metricIntervalMs,
  };
}
