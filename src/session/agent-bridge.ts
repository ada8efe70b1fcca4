/**
 * The acting agent of one call, beside the audio path: setup at call start, tool calls, the
 * built-in `end_call` / `transfer_call`, and the call's events. It never touches audio; it asks
 * its host (the session) for the few things it needs: the model, the epoch, "has everything sent
 * played?", and hanging up.
 *
 * Backpressure rules kept here:
 * - a tool result after a barge-in (or after the caller started speaking) is added to the
 *   conversation without asking for a response: nothing is said over the caller;
 * - several calls of one response answer with one response, after the last result;
 * - `end_call` and `transfer_call` act only once everything said before them has played
 *   (played reports, with a deadline; never a timer standing in for playback).
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CallSetupRequest } from '../agent/call-setup.js';
import { CallEventEmitter, type CallEventFields } from '../agent/events.js';
import { planCall, type AgentServices, type CallPlan, type TransferCall } from '../agent/services.js';
import type { ToolResult } from '../agent/tool-runner.js';
import type { ModelSession, ModelToolCall } from '../models/model.js';
import type { CallStart, TransportKind } from '../transports/transport.js';
import { AgentTranscripts } from './agent-transcripts.js';

/** What the bridge needs from its session. */
export interface AgentHost {
  model(): ModelSession | undefined;
  /** Barge-ins so far (a result that arrives after one must not start a response). */
  bargeIns(): number;
  /** Caller speech starts so far. */
  speechStarts(): number;
  /** Resolves once everything sent has played at the caller; rejects at the deadline or call end. */
  playedOut(timeoutMs: number): Promise<void>;
  /** The caller's confirmed played position in the current epoch (ms). */
  playedMs(): number;
  /** Ends the call from our side, normally (1000). */
  hangUp(reason: string): void;
  /** Resolves when the call has ended. */
  readonly ended: Promise<void>;
}

export interface AgentBridgeOptions {
  readonly services: AgentServices;
  readonly transport: TransportKind;
  /** How this call can be transferred; undefined: `transfer_call` is never offered. */
  readonly transfer?: TransferCall;
  readonly logger: Logger;
  readonly now: () => number;
  /** Longest wait for the goodbye to play before hanging up anyway (ms). Default 30000. */
  readonly playedOutTimeoutMs?: number;
  /** After a successful transfer, how long the carrier may take to end the stream (ms). Default 10000. */
  readonly transferHangupMs?: number;
}

type ControlState = 'none' | 'ending' | 'transferring';

export class AgentBridge {
  private plan: CallPlan | undefined;
  private callId = '';
  private emitter: CallEventEmitter | undefined;
  private readonly transcripts: AgentTranscripts;
  private readonly lifetime = new AbortController();
  private control: ControlState = 'none';
  private logger: Logger;

  constructor(private readonly options: AgentBridgeOptions, private readonly host: AgentHost) {
    this.logger = options.logger;
    this.transcripts = new AgentTranscripts((u) => this.emit('transcript.agent', u));
  }

  /** Emits `call.started`, asks for the setup (never rejects) and emits `call.setup`. */
  async prepare(info: CallStart, logger: Logger): Promise<CallPlan> {
    this.logger = logger;
    this.callId = info.callId;
    this.emitter = new CallEventEmitter(info.callId, this.options.services.sinks, this.options.now);
    const request: CallSetupRequest = {
      callId: info.callId,
      transport: this.options.transport,
      from: info.parameters.From ?? info.parameters.from,
      to: info.parameters.To ?? info.parameters.to,
      parameters: info.parameters,
    };
    this.emit('call.started', { transport: request.transport, from: request.from ?? null, to: request.to ?? null, parameters: { ...info.parameters } });
    const plan = await planCall(this.options.services, request, {
      signal: this.lifetime.signal,
      canTransfer: this.options.transfer !== undefined,
      now: this.options.now,
    });
    this.plan = plan;
    // The caller hung up during setup: `call.ended` is out already, nothing may follow it.
    if (this.lifetime.signal.aborted) return plan;
    const { resolved, setup } = plan;
    if (setup.transfer !== undefined && !plan.builtIns.has('transfer_call')) {
      this.logger.warn({ code: 'VW_ERR_TRANSFER_FAILED', transport: this.options.transport }, 'setup asks for transfer, but this call cannot be transferred (Twilio: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)');
    }
    if (resolved.outcome !== 'applied') {
      this.logger.warn({ code: 'VW_ERR_SETUP_FAILED', outcome: resolved.outcome, detail: resolved.detail, ms: resolved.durationMs }, 'call setup failed; the defaults apply');
    }
    this.emit('call.setup', {
      source: plan.source,
      outcome: resolved.outcome,
      voice: setup.voice ?? null,
      instructions: setup.instructions !== undefined,
      greeting: setup.greeting !== undefined,
      creditWindowMs: setup.creditWindowMs ?? null,
      localBargeInMs: setup.localBargeInMs ?? null,
      localBargeInHoldMs: setup.localBargeInHoldMs ?? null,
      tools: plan.definitions.map((d) => d.name),
      metadata: setup.metadata ? { ...setup.metadata } : null,
    });
    return plan;
  }

  emit<T extends keyof CallEventFields>(type: T, fields: CallEventFields[T]): void {
    this.emitter?.emit(type, fields);
  }

  // --- what the session reports ---

  responseStarted(responseId: string): void {
    this.transcripts.started(responseId);
  }

  audio(responseId: string, ms: number): void {
    this.transcripts.audio(responseId, ms);
  }

  transcript(responseId: string, text: string): void {
    this.transcripts.text(responseId, text);
  }

  responseDone(responseId: string): void {
    this.transcripts.done(responseId, this.host.playedMs());
  }

  played(playedMs: number): void {
    this.transcripts.played(playedMs);
  }

  bargeIn(heardMs: number, droppedMs: number): void {
    this.emit('barge_in', { heardMs: Math.round(heardMs), droppedMs: Math.round(droppedMs) });
    this.transcripts.bargeIn(heardMs);
  }

  /** A local barge-in was a false start: the caller hears the answer again from `fromMs` of the epoch, in a new one. */
  answerResumed(fromMs: number): void {
    this.transcripts.rebase(fromMs);
  }

  callerTranscript(itemId: string | undefined, text: string): void {
    this.emit('transcript.caller', { itemId: itemId ?? null, text });
  }

  /** The call is over: settle what is left and stop running tools. */
  ended(stats: CallEventFields['call.ended']): void {
    this.transcripts.end(this.host.playedMs());
    this.emit('call.ended', stats);
    this.lifetime.abort();
  }

  // --- tools ---

  toolCalls(calls: readonly ModelToolCall[]): void {
    const plan = this.plan;
    if (plan === undefined || this.control !== 'none') return;
    const builtIn = calls.find((c) => (c.name === 'end_call' || c.name === 'transfer_call') && plan.builtIns.has(c.name));
    if (builtIn !== undefined) {
      this.emit('tool.called', { toolCallId: builtIn.callId, name: builtIn.name, arguments: builtIn.arguments });
      if (builtIn.name === 'end_call') void this.endCall(builtIn);
      else void this.transferCall(builtIn, plan.setup.transfer?.to ?? '');
      return;
    }
    // One response for the whole batch, after its last result, and only if the caller has not
    // spoken since the calls were made.
    const batch = { left: calls.length, bargeIns: this.host.bargeIns(), speechStarts: this.host.speechStarts() };
    for (const call of calls) {
      this.emit('tool.called', { toolCallId: call.callId, name: call.name, arguments: call.arguments });
      void plan.runner.run({ toolCallId: call.callId, name: call.name, arguments: call.arguments }).then((result) => {
        batch.left--;
        this.toolDone(call, result, batch.left === 0 && batch.bargeIns === this.host.bargeIns() && batch.speechStarts === this.host.speechStarts());
      });
    }
  }

  private toolDone(call: ModelToolCall, result: ToolResult, respond: boolean): void {
    if (this.lifetime.signal.aborted) return;
    this.report(call, result);
    this.host.model()?.toolResult?.(call.callId, result.output, respond);
  }

  private report(call: ModelToolCall, result: ToolResult): void {
    this.options.services.onToolResult?.(result);
    const failure = result.ok ? null : result.failure;
    if (!result.ok) this.logger.warn({ code: 'VW_ERR_TOOL_FAILED', tool: call.name, failure, detail: result.detail, ms: result.durationMs }, 'tool failed');
    this.emit('tool.result', { toolCallId: call.callId, name: call.name, ok: result.ok, output: result.output, failure, durationMs: Math.round(result.durationMs) });
  }

  // --- built-ins ---

  private async endCall(call: ModelToolCall): Promise<void> {
    this.control = 'ending';
    const startedAt = this.options.now();
    const bargeIns = this.host.bargeIns();
    await this.untilPlayedOut();
    if (this.lifetime.signal.aborted || this.interruptedSince(call, bargeIns, startedAt)) return;
    this.report(call, { ok: true, output: 'ended', durationMs: this.options.now() - startedAt });
    this.host.hangUp('end_call');
  }

  /**
   * The caller barged in before the last words played: they want to speak, so the hang-up or
   * transfer is called off. The model learns why (its call gets that output) and answers the
   * caller's turn as usual; nothing is started over the caller.
   */
  private interruptedSince(call: ModelToolCall, bargeIns: number, startedAt: number): boolean {
    if (this.host.bargeIns() === bargeIns) return false;
    this.control = 'none';
    const output = JSON.stringify({ error: `The caller interrupted before ${call.name} took effect; it was not done.` });
    this.report(call, { ok: false, output, failure: 'aborted', detail: 'caller barged in', durationMs: this.options.now() - startedAt });
    this.host.model()?.toolResult?.(call.callId, output, false);
    return true;
  }

  private async transferCall(call: ModelToolCall, to: string): Promise<void> {
    const transfer = this.options.transfer;
    if (transfer === undefined) return;
    this.control = 'transferring';
    const startedAt = this.options.now();
    const speechStarts = this.host.speechStarts();
    const bargeIns = this.host.bargeIns();
    await this.untilPlayedOut();
    if (this.lifetime.signal.aborted || this.interruptedSince(call, bargeIns, startedAt)) return;
    const outcome = await transfer({ callId: this.callId, to }, this.lifetime.signal);
    if (this.lifetime.signal.aborted) return;
    if (!outcome.ok) {
      this.logger.warn({ code: 'VW_ERR_TRANSFER_FAILED', to, detail: outcome.detail }, 'transfer failed');
      this.control = 'none';
      const failed: ToolResult = { ok: false, output: JSON.stringify({ error: 'The transfer failed. Tell the caller and offer to help otherwise.' }), failure: 'status', detail: outcome.detail, durationMs: this.options.now() - startedAt };
      this.report(call, failed);
      this.host.model()?.toolResult?.(call.callId, failed.output, speechStarts === this.host.speechStarts());
      return;
    }
    this.report(call, { ok: true, output: `transferred to ${to}`, durationMs: this.options.now() - startedAt });
    if (!outcome.carrierEndsCall) return this.host.hangUp('transfer');
    // The carrier ends the stream once the call is redirected; if it does not, end it ourselves.
    const hangupMs = this.options.transferHangupMs ?? 10_000;
    const waited = await Promise.race([this.host.ended.then(() => true), delay(hangupMs, this.lifetime.signal)]);
    if (!waited) this.host.hangUp('transfer');
  }

  /** Waits until the caller has heard everything said so far (bounded); never throws. */
  private async untilPlayedOut(): Promise<void> {
    try {
      await this.host.playedOut(this.options.playedOutTimeoutMs ?? 30_000);
    } catch (err) {
      if (!this.lifetime.signal.aborted) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'goodbye did not finish playing in time');
    }
  }
}

/** Resolves false after `ms`, or true at once when `signal` aborts (the call ended). */
async function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await wait(ms, undefined, { signal });
    return false;
  } catch {
    return true;
  }
}
