/**
 * The gateway's agent services from configuration and the library hooks: the setup source
 * (the `setupCall` function wins over CALL_SETUP_URL), the default tools (TOOLS_FILE plus the
 * library's), the event sinks (EVENTS_URL, `onEvent`) and their metrics. Undefined when nothing is
 * configured, so a plain gateway runs exactly as before.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';
import { FunctionEventSink, type EventSink } from '../agent/events.js';
import { HttpEventSink, type HttpEventSinkOptions } from '../agent/http-event-sink.js';

export type EventsSinkBounds = Partial<Pick<HttpEventSinkOptions, 'maxQueued' | 'batchSize' | 'timeoutMs' | 'maxAttempts' | 'backoffMs'>>;
import type { AgentServices, TransferCall } from '../agent/services.js';
import { transferTwilioCall } from '../agent/twilio-transfer.js';
import type { SetupCallFunction, SetupSource } from '../agent/setup.js';
import type { AgentTool, FunctionTool } from '../agent/tool-runner.js';
import type { CallEvent } from '../agent/events.js';

/** Time the events sink gets to deliver what is queued when the gateway closes. */
const EVENTS_FLUSH_MS = 2_000;
/** Dropped-event log lines per process are limited: a dead endpoint must not flood the log. */
const MAX_DROP_LOG_LINES = 20;

export function agentServices(
  config: GatewayConfig,
  logger: Logger,
  metrics: GatewayMetrics,
  hooks: {
    readonly setupCall?: SetupCallFunction;
    readonly tools?: readonly FunctionTool[];
    readonly onEvent?: (event: CallEvent) => unknown;
    readonly eventsSink?: EventsSinkBounds;
  },
): AgentServices | undefined {
  const { agent } = config;
  const setup: SetupSource | undefined = hooks.setupCall
    ? { kind: 'function', setupCall: hooks.setupCall }
    : agent.setupUrl !== undefined ? { kind: 'webhook', url: agent.setupUrl } : undefined;
  const tools: AgentTool[] = [...agent.tools, ...(hooks.tools ?? [])];
  const sinks: EventSink[] = [];
  let httpSink: HttpEventSink | undefined;
  if (agent.eventsUrl !== undefined) {
    let dropLines = 0;
    httpSink = new HttpEventSink({
      ...hooks.eventsSink,
      url: agent.eventsUrl,
      onDelivered: (count) => metrics.eventsDelivered.inc(count),
      onDropped: (reason, count, detail) => {
        metrics.eventsDropped.inc({ reason }, count);
        if (++dropLines <= MAX_DROP_LOG_LINES) logger.warn({ code: 'VW_ERR_EVENTS_DROPPED', reason, count, detail }, 'call events dropped');
      },
    });
    sinks.push(httpSink);
  }
  if (hooks.onEvent) {
    sinks.push(new FunctionEventSink(hooks.onEvent, (err) => logger.warn({ err }, 'onEvent failed')));
  }
  if (setup === undefined && tools.length === 0 && sinks.length === 0) return undefined;
  return {
    setup,
    setupTimeoutMs: agent.setupTimeoutMs,
    tools,
    sinks,
    onSetup: (outcome) => metrics.callSetups.inc({ outcome }),
    onToolResult: (result) => {
      metrics.toolCalls.inc({ outcome: result.ok ? 'ok' : result.failure });
      metrics.toolDurationMs.observe(result.durationMs);
    },
    close: async () => {
      if (httpSink === undefined) return;
      await httpSink.flush(EVENTS_FLUSH_MS);
      httpSink.close();
    },
  };
}

/** `transfer_call` for Twilio calls through the REST API, when the account is configured. */
export function twilioTransfer(config: GatewayConfig): TransferCall | undefined {
  const { twilioAccountSid: accountSid, twilioApiUrl: apiUrl } = config.agent;
  const authToken = config.twilioAuthToken;
  if (accountSid === undefined || authToken === undefined) return undefined;
  return async ({ callId, to }, signal) => {
    const outcome = await transferTwilioCall({ apiUrl, accountSid, authToken }, callId, to, signal);
    return outcome.ok ? { ok: true, carrierEndsCall: true } : outcome;
  };
}

/** `transfer_call` for browser calls: a `transfer` message, then the gateway closes. */
export function browserTransfer(transport: { sendTransfer(to: string): boolean }): TransferCall {
  return ({ to }) => Promise.resolve(transport.sendTransfer(to) ? { ok: true, carrierEndsCall: false } : { ok: false, detail: 'browser session not open' });
}
