/**
 * OTLP export requests (traces and metrics), protobuf or JSON, decoded into one plain shape the
 * tests assert on. Field numbers and JSON names from opentelemetry-proto
 * (https://github.com/open-telemetry/opentelemetry-proto, trace/v1/trace.proto,
 * metrics/v1/metrics.proto, common/v1/common.proto; JSON mapping: docs/specification.md "JSON
 * Protobuf Encoding": hex trace/span ids, lowerCamelCase names, 64-bit integers as strings).
 */
import { readFields, wire, type WireField } from './protobuf-wire.js';

export type AttrValue = string | number | boolean | AttrValue[] | null;
export type Attrs = Record<string, AttrValue>;

export interface OtlpEvent {
  readonly name: string;
  readonly timeUnixNano: bigint;
  readonly attributes: Attrs;
}

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attrs;
  readonly events: OtlpEvent[];
  readonly status: { readonly code: number; readonly message: string };
  readonly resource: Attrs;
  readonly scope: string;
}

export interface OtlpPoint {
  readonly attributes: Attrs;
  /** Sum / gauge value. */
  readonly value?: number;
  /** Histogram fields. */
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: number[];
  readonly explicitBounds?: number[];
}

export interface OtlpMetric {
  readonly name: string;
  readonly unit: string;
  readonly kind: 'sum' | 'gauge' | 'histogram' | 'other';
  readonly points: OtlpPoint[];
  readonly resource: Attrs;
}

/** An own property even for a key like `__proto__` (attribute keys are peer data). */
function define(out: Attrs, key: string, value: AttrValue): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------- protobuf

const sub = (f: WireField): WireField[] => readFields(f.bytes ?? new Uint8Array());

function pbAnyValue(fields: WireField[]): AttrValue {
  for (const f of fields) {
    switch (f.field) {
      case 1: return wire.string(f);
      case 2: return f.varint !== 0n;
      case 3: return wire.int(f);
      case 4: return wire.double(f);
      case 5: return sub(f).filter((v) => v.field === 1).map((v) => pbAnyValue(sub(v)));
      case 7: return wire.hex(f);
    }
  }
  return null;
}

function pbAttrs(fields: WireField[], number: number): Attrs {
  const out: Attrs = {};
  for (const f of fields) {
    if (f.field !== number) continue;
    const kv = sub(f);
    const key = kv.find((x) => x.field === 1);
    const value = kv.find((x) => x.field === 2);
    if (key) define(out, wire.string(key), value ? pbAnyValue(sub(value)) : null);
  }
  return out;
}

const pbResource = (fields: WireField[]): Attrs => {
  const r = fields.find((f) => f.field === 1);
  return r ? pbAttrs(sub(r), 1) : {};
};
const pbScopeName = (fields: WireField[]): string => {
  const s = fields.find((f) => f.field === 1);
  const name = s ? sub(s).find((f) => f.field === 1) : undefined;
  return name ? wire.string(name) : '';
};

export function decodeTracesProtobuf(body: Uint8Array): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of readFields(body).filter((f) => f.field === 1)) {
    const rsFields = sub(rs);
    const resource = pbResource(rsFields);
    for (const ss of rsFields.filter((f) => f.field === 2)) {
      const ssFields = sub(ss);
      const scope = pbScopeName(ssFields);
      for (const sp of ssFields.filter((f) => f.field === 2)) {
        const s = sub(sp);
        const one = (n: number) => s.find((f) => f.field === n);
        const statusFields = one(15) ? sub(one(15)!) : [];
        const statusCode = statusFields.find((f) => f.field === 3);
        const statusMessage = statusFields.find((f) => f.field === 2);
        spans.push({
          traceId: one(1) ? wire.hex(one(1)!) : '',
          spanId: one(2) ? wire.hex(one(2)!) : '',
          parentSpanId: one(4) ? wire.hex(one(4)!) : '',
          name: one(5) ? wire.string(one(5)!) : '',
          kind: one(6) ? wire.int(one(6)!) : 0,
          startTimeUnixNano: one(7) ? wire.fixed64(one(7)!) : 0n,
          endTimeUnixNano: one(8) ? wire.fixed64(one(8)!) : 0n,
          attributes: pbAttrs(s, 9),
          events: s.filter((f) => f.field === 11).map((ev) => {
            const e = sub(ev);
            const time = e.find((f) => f.field === 1);
            const name = e.find((f) => f.field === 2);
            return { name: name ? wire.string(name) : '', timeUnixNano: time ? wire.fixed64(time) : 0n, attributes: pbAttrs(e, 3) };
          }),
          status: { code: statusCode ? wire.int(statusCode) : 0, message: statusMessage ? wire.string(statusMessage) : '' },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

function pbNumberPoint(p: WireField[]): OtlpPoint {
  const d = p.find((f) => f.field === 4);
  const i = p.find((f) => f.field === 6);
  return { attributes: pbAttrs(p, 7), value: d ? wire.double(d) : i ? Number(wire.sfixed64(i)) : 0 };
}

function pbHistogramPoint(p: WireField[]): OtlpPoint {
  const count = p.find((f) => f.field === 4);
  const sum = p.find((f) => f.field === 5);
  return {
    attributes: pbAttrs(p, 9),
    count: count ? Number(wire.fixed64(count)) : 0,
    sum: sum ? wire.double(sum) : 0,
    bucketCounts: p.filter((f) => f.field === 6).flatMap((f) => wire.packed64(f, 'u64')),
    explicitBounds: p.filter((f) => f.field === 7).flatMap((f) => wire.packed64(f, 'double')),
  };
}

export function decodeMetricsProtobuf(body: Uint8Array): OtlpMetric[] {
  const metrics: OtlpMetric[] = [];
  for (const rm of readFields(body).filter((f) => f.field === 1)) {
    const rmFields = sub(rm);
    const resource = pbResource(rmFields);
    for (const sm of rmFields.filter((f) => f.field === 2)) {
      for (const m of sub(sm).filter((f) => f.field === 2)) {
        const mf = sub(m);
        const name = mf.find((f) => f.field === 1);
        const unit = mf.find((f) => f.field === 3);
        const data = mf.find((f) => [5, 7, 9].includes(f.field));
        const kind = data?.field === 5 ? 'gauge' : data?.field === 7 ? 'sum' : data?.field === 9 ? 'histogram' : 'other';
        const points = data
          ? sub(data).filter((f) => f.field === 1).map((p) => (kind === 'histogram' ? pbHistogramPoint(sub(p)) : pbNumberPoint(sub(p))))
          : [];
        metrics.push({ name: name ? wire.string(name) : '', unit: unit ? wire.string(unit) : '', kind, points, resource });
      }
    }
  }
  return metrics;
}

// -------------------------------------------------------------------------------------- JSON

/* eslint-disable @typescript-eslint/no-explicit-any -- OTLP/JSON is walked as untyped data. */
function jsonAnyValue(v: any): AttrValue {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return ((v.arrayValue?.values ?? []) as any[]).map(jsonAnyValue);
  if ('bytesValue' in v) return Buffer.from(String(v.bytesValue), 'base64').toString('hex');
  return null;
}

function jsonAttrs(list: any): Attrs {
  const out: Attrs = {};
  for (const kv of (list ?? []) as any[]) define(out, String(kv.key), jsonAnyValue(kv.value));
  return out;
}

const jsonId = (id: any): string => (typeof id === 'string' ? id.toLowerCase() : '');

export function decodeTracesJson(body: Uint8Array): OtlpSpan[] {
  const root = JSON.parse(Buffer.from(body).toString('utf8'));
  const spans: OtlpSpan[] = [];
  for (const rs of (root.resourceSpans ?? []) as any[]) {
    const resource = jsonAttrs(rs.resource?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as any[]) {
      for (const s of (ss.spans ?? []) as any[]) {
        spans.push({
          traceId: jsonId(s.traceId),
          spanId: jsonId(s.spanId),
          parentSpanId: jsonId(s.parentSpanId),
          name: String(s.name ?? ''),
          kind: Number(s.kind ?? 0),
          startTimeUnixNano: BigInt(s.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(s.endTimeUnixNano ?? 0),
          attributes: jsonAttrs(s.attributes),
          events: ((s.events ?? []) as any[]).map((e) => ({ name: String(e.name ?? ''), timeUnixNano: BigInt(e.timeUnixNano ?? 0), attributes: jsonAttrs(e.attributes) })),
          status: { code: Number(s.status?.code ?? 0), message: String(s.status?.message ?? '') },
          resource,
          scope: String(ss.scope?.name ?? ''),
        });
      }
    }
  }
  return spans;
}

export function decodeMetricsJson(body: Uint8Array): OtlpMetric[] {
  const root = JSON.parse(Buffer.from(body).toString('utf8'));
  const metrics: OtlpMetric[] = [];
  for (const rm of (root.resourceMetrics ?? []) as any[]) {
    const resource = jsonAttrs(rm.resource?.attributes);
    for (const sm of (rm.scopeMetrics ?? []) as any[]) {
      for (const m of (sm.metrics ?? []) as any[]) {
        const kind = m.histogram ? 'histogram' : m.sum ? 'sum' : m.gauge ? 'gauge' : 'other';
        const dps = ((m.histogram ?? m.sum ?? m.gauge)?.dataPoints ?? []) as any[];
        const points = dps.map((p): OtlpPoint =>
          kind === 'histogram'
            ? {
                attributes: jsonAttrs(p.attributes),
                count: Number(p.count ?? 0),
                sum: Number(p.sum ?? 0),
                bucketCounts: ((p.bucketCounts ?? []) as any[]).map(Number),
                explicitBounds: ((p.explicitBounds ?? []) as any[]).map(Number),
              }
            : { attributes: jsonAttrs(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) },
        );
        metrics.push({ name: String(m.name ?? ''), unit: String(m.unit ?? ''), kind, points, resource });
      }
    }
  }
  return metrics;
}
/* eslint-enable @typescript-eslint/no-explicit-any */
