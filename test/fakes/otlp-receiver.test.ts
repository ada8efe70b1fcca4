/**
 * The receiver's decoders against the official serializers: the same spans and metrics, encoded
 * by @opentelemetry/otlp-transformer as protobuf and as JSON, decode to the same values, and a
 * real SDK exporter's requests are recorded.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { OtlpReceiver } from './otlp/receiver.js';
import { decodeTracesJson, decodeTracesProtobuf } from './otlp/decode.js';
import { ProtobufError, readFields } from './otlp/protobuf-wire.js';
import { createTelemetry } from '../../src/telemetry/telemetry.js';
import { readTelemetrySettings } from '../../src/telemetry/settings.js';

function makeSpans(attrs: Record<string, string | number | boolean | string[]>, eventAttrs: Record<string, number>) {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('t');
  const root = tracer.startSpan('root', { attributes: attrs });
  const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
  child.addEvent('ev', eventAttrs);
  child.end();
  root.end();
  return memory.getFinishedSpans();
}

describe('OTLP receiver', () => {
  const receivers: OtlpReceiver[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
  });

  test('property: protobuf and JSON encodings of the same spans decode alike', () => {
    // `__proto__` never reaches the wire: the SDK's attribute objects are plain objects.
    const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__');
    const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), fc.dictionary(key, fc.integer(), { maxKeys: 3 }), (attrs, eventAttrs) => {
        const spans = makeSpans(attrs, eventAttrs);
        const fromProto = decodeTracesProtobuf(ProtobufTraceSerializer.serializeRequest(spans)!);
        const fromJson = decodeTracesJson(JsonTraceSerializer.serializeRequest(spans)!);
        assert.deepEqual(fromProto, fromJson);
        const root = fromProto.find((s) => s.name === 'root')!;
        const child = fromProto.find((s) => s.name === 'child')!;
        assert.equal(child.parentSpanId, root.spanId);
        assert.equal(root.parentSpanId, '');
        assert.equal(child.traceId, root.traceId);
        assert.deepEqual(child.events[0]?.attributes, { ...eventAttrs });
        assert.deepEqual(root.attributes, JSON.parse(JSON.stringify({ ...attrs })));
      }),
      { numRuns: 60 },
    );
  });

  test('malformed protobuf is a ProtobufError, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeTracesProtobuf(bytes);
        } catch (err) {
          assert.ok(err instanceof ProtobufError || err instanceof RangeError, String(err));
        }
      }),
    );
    assert.throws(() => readFields(Uint8Array.of(0x0a, 0x05, 0x01)), ProtobufError);
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    test(`records what the SDK exporters send over ${protocol}`, async () => {
      const receiver = await OtlpReceiver.start();
      receivers.push(receiver);
      const problems: string[] = [];
      const settings = readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'vw-test' }, problems);
      assert.deepEqual(problems, []);
      const telemetry = createTelemetry(settings);
      const span = telemetry.tracer.startSpan('hello', { attributes: { n: 7 } });
      span.end();
      telemetry.meter!.createHistogram('voicewire_test_ms', { unit: 'ms' }).record(42, { transport: 'twilio' });
      await telemetry.shutdown();
      assert.deepEqual(receiver.errors, []);
      const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      assert.deepEqual(new Set(receiver.requests.map((r) => `${r.path} ${r.contentType}`)), new Set([`/v1/traces ${contentType}`, `/v1/metrics ${contentType}`]));
      const [hello] = receiver.spansNamed('hello');
      assert.equal(hello?.attributes.n, 7);
      assert.equal(hello?.resource['service.name'], 'vw-test');
      const metric = receiver.metrics.find((m) => m.name === 'voicewire_test_ms');
      assert.equal(metric?.kind, 'histogram');
      assert.equal(metric?.unit, 'ms');
      assert.deepEqual(metric?.points.map((p) => [p.attributes, p.count, p.sum]), [[{ transport: 'twilio' }, 1, 42]]);
    });
  }
});
