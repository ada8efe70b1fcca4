/**
 * Issue 11 end to end on loopback: a traced Twilio call with a barge-in, exported over OTLP/HTTP
 * to the in-process receiver. Checks the span tree, the GenAI and voicewire attributes, the
 * barge-in event and its clear → silence figure against what the fake caller measured, the trace
 * id on the call's log lines, the caller-side histograms through OTLP and Prometheus; and that
 * without an endpoint nothing is constructed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../../src/server/config.js';
import { buildGateway } from '../../../src/server/build.js';
import { exporterCount } from '../../../src/telemetry/telemetry.js';
import { callTraces, traceMixin } from '../../../src/telemetry/log-correlation.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import { FakeRealtimeServer } from '../../fakes/realtime-server.js';
import { FAKE_RESPONSE_USAGE } from '../../fakes/realtime-server-connection.js';
import { FakeTwilioCaller, toneSamples } from '../../fakes/twilio-caller.js';
import { OtlpReceiver } from '../../fakes/otlp/receiver.js';
import type { OtlpSpan } from '../../fakes/otlp/decode.js';
import { startGateway } from '../harness.js';
import { FakeHttpEndpoint, jsonOf } from '../../fakes/http-endpoint.js';
import { toolsFile } from '../tools-file.js';

const BOUND = 1_000;
/** The fake model's thinking time before its first audio delta. */
const THINK_MS = 300;

class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '' && this.lines.length < 10_000) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

describe('OpenTelemetry export of a call', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    test(`a call with a barge-in as one trace (${protocol})`, async () => {
      const receiver = await OtlpReceiver.start();
      cleanups.push(() => receiver.close());
      const model = await FakeRealtimeServer.start({ answerMs: 10_000, speedFactor: 10, detectionDelayMs: 100, interruptResponse: false, firstDeltaDelayMs: THINK_MS });
      cleanups.push(() => model.close());
      const result = loadConfig({
        HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug', OPENAI_API_KEY: 'test-key', OPENAI_REALTIME_URL: model.url(),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_METRIC_EXPORT_INTERVAL: '60000',
      });
      assert.ok(result.ok, result.ok ? '' : result.problems.join('; '));
      const logs = new LogLines();
      const gateway = await buildGateway(result.config, pino({ level: 'debug', mixin: traceMixin }, logs));
      cleanups.push(() => gateway.close());
      const { port } = await gateway.listen(0, '127.0.0.1');
      const caller = await FakeTwilioCaller.connect(`ws://127.0.0.1:${port}/twilio/media`, {});
      cleanups.push(async () => caller.terminate());

      await caller.sendSpeech(toneSamples(400));
      await caller.waitUntil(() => caller.playedMs >= 1_500, 10_000, 'the answer playing');
      const speaking = caller.sendSpeech(toneSamples(600));
      await caller.waitUntil(() => caller.clears.length >= 1, 5_000, 'the clear');
      const clear = caller.clears.toArray()[0]!;
      // The mark sent right behind the clear: position 0 of the new epoch, echoed once flushed.
      const isSilenceMark = (name: string) => parseMarkName(name)?.positionMs === 0;
      await caller.waitUntil(() => caller.echoes.toArray().some((e) => e.at >= clear.at && isSilenceMark(e.name)), 5_000, 'the mark behind the clear');
      const silenceEcho = caller.echoes.toArray().find((e) => e.at >= clear.at && isSilenceMark(e.name))!;
      const callerClearToSilenceMs = silenceEcho.at - clear.at;
      await speaking;
      const [call] = [...gateway.context.calls];
      await caller.stop();
      await call!.ended;
      await gateway.context.telemetry.flush();
      await receiver.waitFor(() => receiver.spansNamed('voicewire.call').length === 1, 'the call span');
      assert.deepEqual(receiver.errors, []);

      const root = receiver.spansNamed('voicewire.call')[0]!;
      const trace = receiver.spans.filter((s) => s.traceId === root.traceId);
      const children = (parent: OtlpSpan) => trace.filter((s) => s.parentSpanId === parent.spanId);
      assert.equal(root.parentSpanId, '');
      assert.equal(root.resource['service.name'], 'voicewire');
      assert.equal(root.attributes['voicewire.transport'], 'twilio');
      assert.equal(root.attributes['voicewire.backend'], 'openai-realtime');
      assert.equal(root.attributes['voicewire.call_id'], caller.callSid);
      assert.equal(root.attributes['voicewire.stream_id'], caller.streamSid);
      assert.equal(root.attributes['voicewire.credit_window_ms'], 800);
      assert.equal(root.attributes['voicewire.close_code'], 1000);
      assert.match(String(root.attributes['voicewire.end_reason']), /caller closed \(1000/);
      assert.deepEqual([...new Set(children(root).map((s) => s.name))].sort(), ['invoke_agent gpt-realtime', 'voicewire.turn']);
      const connection = children(root).find((s) => s.name.startsWith('invoke_agent'))!;
      assert.equal(connection.attributes['gen_ai.operation.name'], 'invoke_agent');
      assert.equal(connection.attributes['gen_ai.provider.name'], 'openai');
      assert.equal(connection.attributes['gen_ai.request.model'], 'gpt-realtime');

      const turns = children(root).filter((s) => s.name === 'voicewire.turn');
      assert.ok(turns.length >= 2, `${turns.length} turns`);
      const first = turns.sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano))[0]!;
      const firstAudioMs = first.attributes['voicewire.turn.first_audio_ms'] as number;
      const turnLatencyMs = first.attributes['voicewire.turn.latency_ms'] as number;
      // The model thinks 300 ms; loopback and the caller's player add little: the caller-side
      // figure is dated back from the played-ACK to the moment the first sample played.
      assert.ok(firstAudioMs >= THINK_MS && firstAudioMs <= THINK_MS + 100, `first audio ${firstAudioMs} ms`);
      assert.ok(turnLatencyMs >= 0 && turnLatencyMs <= firstAudioMs, `turn latency ${turnLatencyMs} ms`);
      const chats = children(first);
      assert.equal(chats.length, 1);
      assert.equal(chats[0]!.name, 'chat gpt-realtime');
      assert.equal(chats[0]!.attributes['gen_ai.operation.name'], 'chat');
      assert.equal(chats[0]!.attributes['gen_ai.provider.name'], 'openai');
      assert.equal(typeof chats[0]!.attributes['gen_ai.response.id'], 'string');
      // The usage the fake model reported in its response.done.
      assert.equal(chats[0]!.attributes['gen_ai.usage.input_tokens'], FAKE_RESPONSE_USAGE.input_tokens);
      assert.equal(chats[0]!.attributes['gen_ai.usage.output_tokens'], FAKE_RESPONSE_USAGE.output_tokens);
      assert.equal(first.attributes['voicewire.turn.interrupted'], true);
      const events = first.events.filter((e) => e.name === 'voicewire.barge_in');
      assert.equal(events.length, 1);
      const bargeIn = events[0]!.attributes;
      const gatewayClearToSilenceMs = bargeIn['voicewire.barge_in.clear_to_silence_ms'] as number;
      console.log(
        `# traced call (${protocol}): first audio ${firstAudioMs} ms, turn latency ${turnLatencyMs} ms, barge-in dropped ${String(bargeIn['voicewire.barge_in.dropped_ms'])} ms, heard ${String(bargeIn['voicewire.barge_in.heard_ms'])} ms, ` +
          `clear → silence ${gatewayClearToSilenceMs} ms (caller measured ${callerClearToSilenceMs.toFixed(1)} ms), barge-in → silence ${String(bargeIn['voicewire.barge_in.to_silence_ms'])} ms`,
      );
      assert.ok(Math.abs(gatewayClearToSilenceMs - callerClearToSilenceMs) <= 20, `gateway ${gatewayClearToSilenceMs} vs caller ${callerClearToSilenceMs}`);
      assert.ok((bargeIn['voicewire.barge_in.heard_ms'] as number) >= 1_500);
      assert.ok((bargeIn['voicewire.barge_in.dropped_ms'] as number) > 0);
      assert.equal(typeof bargeIn['voicewire.barge_in.truncate_item_id'], 'string');
      assert.equal(bargeIn['voicewire.barge_in.trigger'], 'model');
      assert.ok((bargeIn['voicewire.barge_in.to_silence_ms'] as number) >= gatewayClearToSilenceMs);

      // Every log line of the call carries its trace id.
      const callLines = logs.lines.filter((l) => l.callSid === caller.callSid);
      assert.ok(callLines.length >= 5, `${callLines.length} call lines`);
      for (const line of callLines) assert.equal(line.trace_id, root.traceId, `line "${String(line.msg)}"`);
      assert.equal(callTraces.get(caller.callSid), undefined, 'forgotten at call end');

      // The caller-side histograms, through OTLP and Prometheus.
      await receiver.waitFor(() => receiver.metrics.some((m) => m.name === 'voicewire_first_audio_ms'), 'the metrics export');
      const otlpFirstAudio = receiver.metrics.filter((m) => m.name === 'voicewire_first_audio_ms').at(-1)!;
      assert.equal(otlpFirstAudio.kind, 'histogram');
      assert.deepEqual(otlpFirstAudio.points.map((p) => [p.attributes, p.count]), [[{ transport: 'twilio', backend: 'openai-realtime' }, 1]]);
      const prom = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(prom, /voicewire_first_audio_ms_count\{transport="twilio",backend="openai-realtime"\} 1\n/);
      assert.match(prom, /voicewire_barge_in_clear_latency_ms_count\{transport="twilio",backend="openai-realtime"\} 1\n/);
      assert.match(prom, /voicewire_call_close_codes_total\{transport="twilio",close_code="1000"\} 1\n/);
      assert.match(prom, /voicewire_transport_stats_total\{transport="twilio",stat="clearsSent"\} 1\n/);
      assert.match(prom, /voicewire_model_stats_total\{backend="openai-realtime",stat="outputMs"\} \d+/);
      assert.doesNotMatch(prom, /voicewire_caller_underruns_total\{[^}]*\} [1-9]/, 'no underrun in a call that played smoothly');
      assert.match(prom, /voicewire_call_duration_seconds_count\{transport="twilio",backend="openai-realtime"\} 1\n/);
    });
  }

  test('a tool call is an execute_tool span, and the setup webhook, the tool and the events webhook get the call\'s traceparent', async () => {
    const receiver = await OtlpReceiver.start();
    cleanups.push(() => receiver.close());
    const app = await FakeHttpEndpoint.start((request) =>
      request.path === '/setup' ? { status: 200, json: {} } : request.path === '/events' ? { status: 204 } : { status: 200, json: { output: { status: 'shipped' } } },
    );
    cleanups.push(() => app.close());
    const r = await startGateway(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        CALL_SETUP_URL: app.url('/setup'),
        EVENTS_URL: app.url('/events'),
        TOOLS_FILE: toolsFile([{ name: 'lookup_order', description: 'Find an order', parameters: { type: 'object' }, url: app.url('/lookup') }]),
      },
      { speedFactor: 10, detectionDelayMs: 100, script: [{ audioMs: 0, functionCall: { name: 'lookup_order', arguments: '{"order_id":"A-1"}' } }, { audioMs: 1_000, text: 'It ships Friday.' }] },
    );
    cleanups.push(() => r.close());
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 1_000, 10_000, 'the answer after the tool');
    const [call] = [...r.gateway.context.calls];
    await caller.stop();
    await call!.ended;
    await r.gateway.context.telemetry.flush();
    await receiver.waitFor(() => receiver.spansNamed('voicewire.call').length === 1, 'the call span');

    const root = receiver.spansNamed('voicewire.call')[0]!;
    const inTrace = (name: string) => receiver.spans.filter((s) => s.traceId === root.traceId && s.name === name);
    const [tool] = inTrace('execute_tool lookup_order');
    assert.ok(tool, `spans: ${receiver.spans.map((s) => s.name).join(', ')}`);
    assert.equal(tool.attributes['gen_ai.operation.name'], 'execute_tool');
    assert.equal(tool.attributes['gen_ai.tool.name'], 'lookup_order');
    assert.equal(tool.attributes['gen_ai.tool.call.id'], r.model!.log.functionCalls[0]!.callId);
    assert.equal(tool.status.code, 0);
    // In the caller's turn, next to the response that asked for it (which ended with its function call)
    // and the one that spoke the result.
    const parent = receiver.spans.find((s) => s.spanId === tool.parentSpanId);
    assert.equal(parent?.name, 'voicewire.turn');
    assert.equal(receiver.spans.filter((s) => s.parentSpanId === parent.spanId && s.name === 'chat gpt-realtime').length, 2);
    const [setup] = inTrace('voicewire.setup');
    assert.equal(setup?.parentSpanId, root.spanId);
    const header = (path: string) => app.requests.find((q) => q.path === path)?.headers.traceparent;
    assert.equal(header('/lookup'), `00-${root.traceId}-${tool.spanId}-01`);
    assert.equal(header('/setup'), `00-${root.traceId}-${setup.spanId}-01`);
    // Every events POST holds this call's events only and carries its voicewire.call span context.
    const eventsPosted = () => app.requests.filter((q) => q.path === '/events');
    await app.until(() => eventsPosted().some((q) => jsonOf<Array<{ type: string }>>(q).some((e) => e.type === 'call.ended')), 'the call.ended event');
    assert.ok(eventsPosted().length >= 1);
    for (const q of eventsPosted()) {
      assert.deepEqual([...new Set(jsonOf<Array<{ callId: string }>>(q).map((e) => e.callId))], [caller.callSid]);
      assert.equal(q.headers.traceparent, `00-${root.traceId}-${root.spanId}-01`);
    }
  });

  test('without an endpoint no exporter is constructed and no call ids are kept', async () => {
    const before = { ...exporterCount };
    const r = await startGateway({}, { answerMs: 2_000, speedFactor: 10 });
    cleanups.push(() => r.close());
    assert.equal(r.gateway.context.telemetry.tracing, false);
    assert.equal(r.gateway.context.telemetry.meter, undefined);
    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 500, BOUND * 10, 'the answer playing');
    assert.equal(callTraces.get(caller.callSid), undefined);
    await caller.stop();
    assert.deepEqual(exporterCount, before);
  });
});
