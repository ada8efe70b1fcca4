/**
 * The caller-side instruments of metrics.ts, once more through the OpenTelemetry metrics API when
 * an OTLP metrics endpoint is configured. Same names and units as the Prometheus ones, so a
 * dashboard reads either.
 */
import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { CALLER_LATENCY_BUCKETS, CALL_DURATION_BUCKETS } from './metrics.js';

export interface OtelMeasures {
  readonly callsActive: UpDownCounter;
  readonly firstAudioMs: Histogram;
  readonly bargeInClearLatencyMs: Histogram;
  readonly turnLatencyMs: Histogram;
  readonly callDurationSeconds: Histogram;
  readonly callsEnded: Counter;
  readonly bargeIns: Counter;
  readonly localBargeIns: Counter;
  readonly droppedAudioMs: Counter;
  readonly modelErrors: Counter;
  readonly creditWindowChanges: Counter;
}

const cache = new WeakMap<Meter, OtelMeasures>();

/** The gateway's instruments on `meter` (created once per meter); undefined without a meter. */
export function measuresFor(meter: Meter | undefined): OtelMeasures | undefined {
  if (meter === undefined) return undefined;
  let measures = cache.get(meter);
  if (measures === undefined) {
    measures = otelMeasures(meter);
    cache.set(meter, measures);
  }
  return measures;
}

function otelMeasures(meter: Meter): OtelMeasures {
  const latency = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { description, unit: 'ms', advice: { explicitBucketBoundaries: CALLER_LATENCY_BUCKETS } });
  return {
    callsActive: meter.createUpDownCounter('voicewire_calls_active', { description: 'Calls in progress' }),
    firstAudioMs: latency('voicewire_first_audio_ms', 'Caller speech end → first answer audio played at the caller'),
    bargeInClearLatencyMs: latency('voicewire_barge_in_clear_latency_ms', 'Speech start seen by the gateway → the caller confirmed the clear'),
    turnLatencyMs: latency('voicewire_turn_latency_ms', 'Caller speech end → the model started its answer'),
    callDurationSeconds: meter.createHistogram('voicewire_call_duration_seconds', {
      description: 'Call start → end', unit: 's', advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS },
    }),
    callsEnded: meter.createCounter('voicewire_call_close_codes_total', { description: 'Calls ended, by close code' }),
    bargeIns: meter.createCounter('voicewire_barge_ins_total', { description: 'Interruptions handled' }),
    localBargeIns: meter.createCounter('voicewire_local_barge_ins_total', {
      description: "Barge-ins the gateway's own VAD started (LOCAL_BARGE_IN_MS), by whether the model heard the caller speak too",
    }),
    droppedAudioMs: meter.createCounter('voicewire_dropped_audio_ms_total', { description: 'Audio dropped (ms) by reason', unit: 'ms' }),
    modelErrors: meter.createCounter('voicewire_model_errors_total', { description: 'Error events from the model, by code' }),
    creditWindowChanges: meter.createCounter('voicewire_credit_window_changes_total', {
      description: 'Changes of the adaptive credit window, by reason (rtt, late-echo, underrun: grown; clean: shrunk)',
    }),
  };
}
