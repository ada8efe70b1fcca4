/**
 * Prometheus metrics, one registry per gateway (tests run several gateways in one process).
 * Labels are per call *class* (transport, backend), never per call: a label per call would grow
 * without bound with the number of calls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const MS_BUCKETS = [0, 20, 50, 100, 200, 400, 600, 800, 1000, 1500, 2000, 5000, 10000, 30000, 120000];
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 40, 80, 150, 300, 1000];
const BYTES_BUCKETS = [0, 1024, 8192, 32768, 65536, 131072, 262144, 524288, 1048576, 4194304];

export type CallLabels = { transport: string; backend: string };

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly callsActive = new Gauge({
    name: 'voicewire_calls_active', help: 'Calls in progress', labelNames: ['transport', 'backend'],
    registers: [this.registry],
  });
  readonly callsTotal = new Counter({
    name: 'voicewire_calls_total', help: 'Calls started', labelNames: ['transport', 'backend'],
    registers: [this.registry],
  });
  readonly callerBufferedMs = new Histogram({
    name: 'voicewire_caller_buffered_ms', help: 'Audio sent but not yet played at the caller (ms), sampled',
    labelNames: ['transport', 'backend'], buckets: MS_BUCKETS, registers: [this.registry],
  });
  readonly creditMs = new Histogram({
    name: 'voicewire_credit_ms', help: 'Send credit left (ms), sampled',
    labelNames: ['transport', 'backend'], buckets: MS_BUCKETS, registers: [this.registry],
  });
  readonly queueDepthMs = new Histogram({
    name: 'voicewire_queue_depth_ms', help: 'Model audio queued in the gateway for the caller (ms), sampled',
    labelNames: ['transport', 'backend'], buckets: MS_BUCKETS, registers: [this.registry],
  });
  readonly bufferedAmountBytes = new Histogram({
    name: 'voicewire_buffered_amount_bytes', help: 'WebSocket bufferedAmount (bytes), sampled',
    labelNames: ['socket'], buckets: BYTES_BUCKETS, registers: [this.registry],
  });
  readonly bufferedWarnings = new Counter({
    name: 'voicewire_buffered_amount_warnings_total', help: 'Sockets that went past the bufferedAmount warning level',
    labelNames: ['socket'], registers: [this.registry],
  });
  readonly slowConsumerCutoffs = new Counter({
    name: 'voicewire_slow_consumer_cutoffs_total', help: 'Connections closed for staying past the bufferedAmount cap',
    labelNames: ['socket'], registers: [this.registry],
  });
  readonly heartbeatsMissed = new Counter({
    name: 'voicewire_heartbeats_missed_total', help: 'Pings without a pong', labelNames: ['socket'],
    registers: [this.registry],
  });
  readonly bargeInClearLatencyMs = new Histogram({
    name: 'voicewire_barge_in_clear_latency_ms', help: 'Speech start seen by the gateway → clear sent (ms)',
    labelNames: ['transport', 'backend'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly truncateUncertaintyMs = new Histogram({
    name: 'voicewire_truncate_uncertainty_ms',
    help: 'Truncation point minus the last confirmed played position (ms): the part that was interpolated',
    labelNames: ['transport', 'backend'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly droppedAudioMs = new Counter({
    name: 'voicewire_dropped_audio_ms_total', help: 'Audio dropped (ms) by reason',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly badInputs = new Counter({
    name: 'voicewire_bad_inputs_total', help: 'Malformed messages from peers, by error code',
    labelNames: ['source', 'code'], registers: [this.registry],
  });
  readonly modelErrors = new Counter({
    name: 'voicewire_model_errors_total', help: 'Error events from the model, by code',
    labelNames: ['code'], registers: [this.registry],
  });
  readonly responsesCancelled = new Counter({
    name: 'voicewire_responses_cancelled_total', help: 'Responses cancelled by the gateway, by reason',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly bargeIns = new Counter({
    name: 'voicewire_barge_ins_total', help: 'Interruptions handled', labelNames: ['transport', 'backend'],
    registers: [this.registry],
  });

  /** Sockets waiting for their `start`; read at scrape time from `pendingStreamsNow`. */
  pendingStreamsNow: () => number = () => 0;
  readonly pendingStreams: Gauge;
  readonly draining = new Gauge({
    name: 'voicewire_draining', help: '1 while the gateway drains (SIGTERM): no new calls, live calls go on',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'voicewire_refused_total',
    help: 'Requests, upgrades and starts refused: rate-limited-webhook, rate-limited-upgrade, draining, full, pending-full, start-timeout',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly callsEndedByLimit = new Counter({
    name: 'voicewire_calls_ended_by_limit_total', help: 'Calls the gateway ended: max-call-ms, drain-deadline',
    labelNames: ['reason'], registers: [this.registry],
  });
  readonly callSetups = new Counter({
    name: 'voicewire_call_setups_total', help: 'Call setups by outcome (applied, or why the defaults were used)',
    labelNames: ['outcome'], registers: [this.registry],
  });
  readonly toolCalls = new Counter({
    name: 'voicewire_tool_calls_total', help: 'Application tool calls by outcome (ok, or the failure)',
    labelNames: ['outcome'], registers: [this.registry],
  });
  readonly toolDurationMs = new Histogram({
    name: 'voicewire_tool_duration_ms', help: 'Application tool call duration (ms)',
    buckets: [5, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000], registers: [this.registry],
  });
  readonly eventsDelivered = new Counter({
    name: 'voicewire_events_delivered_total', help: 'Call events delivered to EVENTS_URL', registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'voicewire_events_dropped_total', help: 'Call events dropped, by reason (queue-full, undeliverable)',
    labelNames: ['reason'], registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const pendingNow = (): number => this.pendingStreamsNow();
    this.pendingStreams = new Gauge({
      name: 'voicewire_pending_streams', help: 'Sockets upgraded but still waiting for their start/hello',
      registers: [this.registry],
      collect() {
        this.set(pendingNow());
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'voicewire_' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
