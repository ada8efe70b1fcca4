/**
 * One gateway's OpenTelemetry: a tracer and a meter, exporting over OTLP/HTTP when an endpoint is
 * configured. Without one nothing is constructed: the tracer is the API's no-op tracer and the
 * meter is undefined, so instrumentation costs a few no-op calls per turn. Nothing is registered
 * globally (several gateways may share a process in tests); context is passed explicitly.
 */
import { trace, type Tracer, type Meter } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { envDetector, resourceFromAttributes, detectResources } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { TelemetrySettings } from './settings.js';

export interface Telemetry {
  readonly tracer: Tracer;
  /** Undefined when no metrics endpoint is configured (Prometheus only). */
  readonly meter: Meter | undefined;
  /** True when spans are exported. */
  readonly tracing: boolean;
  /** Exports what is pending (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Counts exporters constructed in this process (the "no endpoint, no exporter" test reads it). */
export const exporterCount = { traces: 0, metrics: 0 };

const SCOPE = 'voicewire';

export function createTelemetry(settings: TelemetrySettings, version = '0.1.0'): Telemetry {
  if (settings.tracesUrl === undefined && settings.metricsUrl === undefined) return noopTelemetry();
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME through the SDK's env detector; service.name
  // defaults to voicewire rather than the SDK's unknown_service.
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': version }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  let tracerProvider: BasicTracerProvider | undefined;
  let meterProvider: MeterProvider | undefined;
  if (settings.tracesUrl !== undefined) {
    const exporter: SpanExporter =
      settings.tracesProtocol === 'http/json' ? new JsonTraceExporter({ url: settings.tracesUrl }) : new ProtoTraceExporter({ url: settings.tracesUrl });
    exporterCount.traces++;
    // The sampler comes from OTEL_TRACES_SAMPLER / _ARG, parsed by the SDK.
    tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  }
  if (settings.metricsUrl !== undefined) {
    const exporter: PushMetricExporter =
      settings.metricsProtocol === 'http/json' ? new JsonMetricExporter({ url: settings.metricsUrl }) : new ProtoMetricExporter({ url: settings.metricsUrl });
    exporterCount.metrics++;
    meterProvider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: settings.metricIntervalMs, exportTimeoutMillis: Math.min(30_000, settings.metricIntervalMs) })],
    });
  }
  return {
    tracer: tracerProvider?.getTracer(SCOPE, version) ?? trace.getTracer(SCOPE),
    meter: meterProvider?.getMeter(SCOPE, version),
    tracing: tracerProvider !== undefined,
    async flush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

/** No SDK, no exporter: the API's no-op tracer. */
export function noopTelemetry(): Telemetry {
  return {
    tracer: trace.getTracer(SCOPE),
    meter: undefined,
    tracing: false,
    flush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
