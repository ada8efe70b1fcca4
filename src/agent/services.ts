/**
 * What a gateway offers every call for acting agents — the setup source, the default tools, the
 * event sinks — and the per-call plan made from them at call start: the setup's answer (or the
 * defaults), the tools the model is offered (application tools plus the built-ins the setup
 * enabled) and a runner for them.
 */
import type { ModelCallSettings, ToolDefinition } from '../models/model.js';
import type { CallSetup, CallSetupRequest } from './call-setup.js';
import type { EventSink } from './events.js';
import { resolveSetup, type ResolvedSetup, type SetupOutcome, type SetupSource } from './setup.js';
import { ToolRunner, type AgentTool, type ToolResult } from './tool-runner.js';

export interface AgentServices {
  /** Where each call's setup comes from; undefined: every call gets the defaults. */
  readonly setup: SetupSource | undefined;
  readonly setupTimeoutMs: number;
  /** Tools of every call whose setup names none (TOOLS_FILE, the library's `tools`). */
  readonly tools: readonly AgentTool[];
  readonly sinks: readonly EventSink[];
  /** Tool calls running at once per call (default 4). */
  readonly maxToolsInFlight?: number;
  /** Observers for metrics (the agent module knows nothing of Prometheus). */
  readonly onSetup?: (outcome: SetupOutcome) => void;
  readonly onToolResult?: (result: ToolResult) => void;
  /** Flushes the sinks (bounded) and stops them; called once when the gateway closes. */
  readonly close?: () => Promise<void>;
}

/**
 * How a transport hands the call on: Twilio's REST API (the carrier then ends the stream), or a
 * message to the browser (the gateway closes right after).
 */
export type TransferCall = (
  request: { readonly callId: string; readonly to: string },
  signal: AbortSignal,
) => Promise<{ readonly ok: true; readonly carrierEndsCall: boolean } | { readonly ok: false; readonly detail: string }>;

export type BuiltInTool = 'end_call' | 'transfer_call';

export const BUILT_IN_DEFINITIONS: Readonly<Record<BuiltInTool, ToolDefinition>> = {
  end_call: {
    name: 'end_call',
    description:
      'Hang up. Say goodbye first, in the same turn: the line closes only after the caller has heard everything you said.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  },
  transfer_call: {
    name: 'transfer_call',
    description:
      'Transfer the caller to a person. Tell the caller you are transferring them first, in the same turn: the transfer happens after they have heard it.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
  },
};

/** A call's plan, settled at call start. */
export interface CallPlan {
  readonly resolved: ResolvedSetup;
  readonly source: 'webhook' | 'function' | 'none';
  readonly setup: CallSetup;
  /** Every tool the model is offered (application tools, then built-ins). */
  readonly definitions: readonly ToolDefinition[];
  readonly builtIns: ReadonlySet<BuiltInTool>;
  readonly runner: ToolRunner;
}

/** Asks for the call's setup (never rejects: a failure means the defaults) and makes its plan. */
export async function planCall(
  services: AgentServices,
  request: CallSetupRequest,
  options: { readonly signal: AbortSignal; readonly canTransfer: boolean; readonly now?: () => number },
): Promise<CallPlan> {
  const resolved: ResolvedSetup = services.setup
    ? await resolveSetup(services.setup, request, { timeoutMs: services.setupTimeoutMs, signal: options.signal, ...(options.now ? { now: options.now } : {}) })
    : { setup: {}, outcome: 'applied', durationMs: 0 };
  if (services.setup) services.onSetup?.(resolved.outcome);
  const setup = resolved.setup;
  const tools: readonly AgentTool[] = setup.tools ?? services.tools;
  const builtIns = new Set<BuiltInTool>();
  if (setup.endCall === true) builtIns.add('end_call');
  if (setup.transfer !== undefined && options.canTransfer) builtIns.add('transfer_call');
  const definitions: ToolDefinition[] = tools.map((tool) => ({
    name: tool.name,
    description: tool.description ?? '',
    parameters: tool.parameters ?? { type: 'object', properties: {} },
  }));
  for (const name of builtIns) definitions.push(BUILT_IN_DEFINITIONS[name]);
  return {
    resolved,
    source: services.setup?.kind ?? 'none',
    setup,
    definitions,
    builtIns,
    runner: new ToolRunner({
      callId: request.callId,
      tools,
      signal: options.signal,
      ...(services.maxToolsInFlight === undefined ? {} : { maxInFlight: services.maxToolsInFlight }),
      ...(options.now ? { now: options.now } : {}),
    }),
  };
}

/** The model's per-call settings from a plan (absent fields keep the backend's defaults). */
export function modelSettings(plan: CallPlan): ModelCallSettings {
  const { setup } = plan;
  return {
    ...(setup.instructions === undefined ? {} : { instructions: setup.instructions }),
    ...(setup.voice === undefined ? {} : { voice: setup.voice }),
    ...(plan.definitions.length === 0 ? {} : { tools: plan.definitions }),
  };
}

/**
 * The call's credit window. A browser's `hello` window is its player's capacity: a setup may
 * shrink it, never grow it. Without one (Twilio), the setup's window, else the default.
 */
export function creditWindow(callerMs: number | undefined, setupMs: number | undefined, defaultMs: number): number {
  if (callerMs === undefined) return setupMs ?? defaultMs;
  return Math.min(callerMs, setupMs ?? Infinity);
}
