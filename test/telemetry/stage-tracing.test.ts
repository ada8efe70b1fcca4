/**
 * A cascade stage request of a traced call is a span of that call and carries its traceparent;
 * a request of an untraced call (or outside any call) carries none.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { StageRequest } from '../../src/models/cascade/http.js';
import { bindStageSignal, callHandles, inheritStageSignal } from '../../src/telemetry/stage-tracing.js';

let server: Server;
let url: string;
const seen: IncomingHttpHeaders[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(req.url === '/fail' ? 500 : 200).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function post(signal: AbortSignal, path = '/v1/chat/completions'): Promise<IncomingHttpHeaders> {
  const request = new StageRequest('llm', 2_000, signal);
  try {
    const response = await request.fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await request.readAll(response, 1024);
  } catch {
    // the failing case: the span records it
  } finally {
    request.dispose();
  }
  return seen.at(-1)!;
}

describe('stage tracing', () => {
  test('a bound turn signal: one client span under the call context, traceparent on the request', async () => {
    const memory = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
    const turn = tracer.startSpan('voicewire.turn');
    callHandles.register('CA-stage', { tracer, context: () => trace.setSpan(ROOT_CONTEXT, turn) });
    try {
      const turnSignal = new AbortController().signal;
      bindStageSignal(turnSignal, 'CA-stage');
      const stageSignal = new AbortController().signal;
      inheritStageSignal(stageSignal, turnSignal);
      const headers = await post(stageSignal);
      const [span] = memory.getFinishedSpans();
      assert.equal(span?.name, 'llm');
      assert.equal(span?.parentSpanContext?.spanId, turn.spanContext().spanId);
      assert.equal(span?.attributes['server.address'], new URL(url).host);
      assert.equal(headers.traceparent, `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      assert.equal(headers['content-type'], 'application/json', 'the caller\'s headers are kept');

      await post(stageSignal, '/fail');
      assert.equal(memory.getFinishedSpans()[1]?.status.code, 2, 'an HTTP 500 marks the span as an error');
    } finally {
      callHandles.forget('CA-stage');
    }
  });

  test('an unbound signal, or a forgotten call: no span, no traceparent', async () => {
    assert.equal((await post(new AbortController().signal)).traceparent, undefined);
    const signal = new AbortController().signal;
    bindStageSignal(signal, 'CA-gone');
    assert.equal((await post(signal)).traceparent, undefined);
    assert.equal(callHandles.size, 0);
  });
});
