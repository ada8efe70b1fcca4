/**
 * Prometheus metrics, one registry per gateway (tests run several gateways in one process).
 * Labels are per call *class* (transport, backend), never per call: a label per call would grow
 * without bound with the number of calls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const MS_BUCKETS = [0, 20, 50, 100, 200, 400, 600, 800, 1000, 1500, 2000, 5000, 10000, 30000, 120000];
/** The adaptive window moves in 50 ms steps within 400–1500; fixed windows are 200–2000. */
const WINDOW_BUCKETS = [200, 400, 500, 600, 700, 800, 900, 1000, 1200, 1500, 2000];
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 40, 80, 150, 300, 1000];
/** Latencies measured at the caller (ms): first audio, barge-in → silence, turn latency. */
export const CALLER_LATENCY_BUCKETS = [10, 25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000];
export const CALL_DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
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
  readonly creditWindowMs = new Histogram({
    name: 'voicewire_credit_window_ms',
    help: 'Credit window of each call (ms), sampled: fixed, or chosen by CREDIT_WINDOW_MS=auto (400–1500)',
    labelNames: ['transport', 'backend'], buckets: WINDOW_BUCKETS, registers: [this.registry],
  });
  readonly creditWindowChanges = new Counter({
    name: 'voicewire_credit_window_changes_total',
    help: 'Changes of the adaptive credit window, by reason (rtt, late-echo, underrun: grown; clean: shrunk)',
    labelNames: ['reason'], registers: [this.registry],
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
    name: 'voicewire_barge_in_clear_latency_ms',
    help: 'Barge-in → silence at the caller: speech start seen by the gateway → the caller confirmed the clear (ms)',
    labelNames: ['transport', 'backend'], buckets: CALLER_LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly firstAudioMs = new Histogram({
    name: 'voicewire_first_audio_ms',
    help: 'Time to first audio: caller speech end → first answer audio played at the caller, from played-ACKs (ms)',
    labelNames: ['transport', 'backend'], buckets: CALLER_LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly turnLatencyMs = new Histogram({
    name: 'voicewire_turn_latency_ms', help: 'Caller speech end → the model started its answer (ms)',
    labelNames: ['transport', 'backend'], buckets: CALLER_LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly callDurationSeconds = new Histogram({
    name: 'voicewire_call_duration_seconds', help: 'Call start → end (s)',
    labelNames: ['transport', 'backend'], buckets: CALL_DURATION_BUCKETS, registers: [this.registry],
  });
  readonly callsEnded = new Counter({
    name: 'voicewire_call_close_codes_total', help: 'Calls ended, by WebSocket close code of the caller connection',
    labelNames: ['transport', 'close_code'], registers: [this.registry],
  });
  readonly truncateUncertaintyMs = new Histogram({
    name: 'voicewire_truncate_uncertainty_ms',
    help: 'Truncation point minus the last confirmed played position (ms): the part that was interpolated',
    labelNames: ['transport', 'backend'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly truncations = new Counter({
    name: 'voicewire_truncations_total',
    help: 'Barge-in truncation points by how they were settled: marker (the caller confirmed the clear), deadline (it never did), superseded, nothing-sent, at-barge-in',
    labelNames: ['transport', 'backend', 'source'], registers: [this.registry],
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
  readonly localBargeIns = new Counter({
    name: 'voicewire_local_barge_ins_total',
    help: "Barge-ins the gateway's own VAD started (LOCAL_BARGE_IN_MS), by whether the model heard the caller speak too (confirmed=false: a false start)",
    labelNames: ['transport', 'backend', 'confirmed'], registers: [this.registry],
  });

  readonly underruns = new Counter({
    name: 'voicewire_caller_underruns_total',
    help: 'The caller played everything it was sent while the model was still answering (an audible gap)',
    labelNames: ['transport', 'backend'], registers: [this.registry],
  });
  readonly transportStats = new Counter({
    name: 'voicewire_transport_stats_total',
    help: 'Per-call counters of the caller transports, summed at call end (marksSent, clearsSent, echoesFlushed, staleSends, …)',
    labelNames: ['transport', 'stat'], registers: [this.registry],
  });
  readonly modelStats = new Counter({
    name: 'voicewire_model_stats_total',
    help: 'Per-call counters of the model clients, summed at call end (inputDroppedMs, droppedDeltas, malformedEvents, reconnects, …)',
    labelNames: ['backend', 'stat'], registers: [this.registry],
  });
  /** Read at scrape time: 1 while the gateway accepts calls (readyz). */
  readyNow: () => boolean = () => true;
  /** Read at scrape time: the largest bufferedAmount of a live caller connection. */
  maxBufferedNow: () => number = () => 0;
  readonly ready: Gauge;
  readonly maxBufferedBytes: Gauge;

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
    const readyNow = (): boolean => this.readyNow();
    this.ready = new Gauge({
      name: 'voicewire_ready', help: '1 while the gateway accepts new calls (what /readyz answers), else 0',
      registers: [this.registry],
      collect() {
        this.set(readyNow() ? 1 : 0);
      },
    });
    const maxBufferedNow = (): number => this.maxBufferedNow();
    this.maxBufferedBytes = new Gauge({
      name: 'voicewire_buffered_amount_max_bytes', help: 'Largest WebSocket bufferedAmount of a live caller connection now (bytes)',
      registers: [this.registry],
      collect() {
        this.set(maxBufferedNow());
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'voicewire_' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
