/**
 * An in-process OTLP/HTTP receiver (the collector's role) on 127.0.0.1: POST /v1/traces and
 * /v1/metrics, `application/x-protobuf` or `application/json`, answered 200 with an empty
 * Export*ServiceResponse. It records the decoded spans and metrics. Spec:
 * https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeMetricsJson, decodeMetricsProtobuf, decodeTracesJson, decodeTracesProtobuf, type OtlpMetric, type OtlpSpan } from './decode.js';
import { Conditions } from '../../helpers/conditions.js';

const MAX_BODY = 16 * 1024 * 1024;
const MAX_RECORDED = 100_000;

export interface ReceiverRequest {
  readonly path: string;
  readonly contentType: string;
  readonly bytes: number;
}

export class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly metrics: OtlpMetric[] = [];
  readonly requests: ReceiverRequest[] = [];
  readonly errors: string[] = [];
  private readonly conditions = new Conditions('otlp receiver');

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer();
    const receiver = new OtlpReceiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          res.writeHead(413).end();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const path = new URL(req.url ?? '/', 'http://receiver.invalid').pathname;
        receiver.requests.push({ path, contentType, bytes: body.length });
        const json = contentType === 'application/json';
        try {
          if (req.method !== 'POST') throw new Error(`method ${req.method}`);
          if (!json && contentType !== 'application/x-protobuf') throw new Error(`content-type ${contentType}`);
          if (path === '/v1/traces') receiver.record(receiver.spans, json ? decodeTracesJson(body) : decodeTracesProtobuf(body));
          else if (path === '/v1/metrics') receiver.record(receiver.metrics, json ? decodeMetricsJson(body) : decodeMetricsProtobuf(body));
          else throw new Error(`path ${path}`);
        } catch (err) {
          receiver.errors.push(String(err));
          res.writeHead(400).end();
          return;
        }
        res.writeHead(200, { 'content-type': contentType });
        res.end(json ? '{}' : Buffer.alloc(0));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when `predicate` holds after a request was recorded. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return this.conditions.until(predicate, timeoutMs, what);
  }

  spansNamed(name: string): OtlpSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  close(): Promise<void> {
    this.conditions.close('receiver closed');
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private record<T>(into: T[], items: readonly T[]): void {
    for (const item of items) if (into.length < MAX_RECORDED) into.push(item);
    this.conditions.notify();
  }
}
