/**
 * The Deepgram Voice Agent backend: one `/v1/agent/converse` WebSocket per call (ModelLink), the
 * pure codec (codec.ts) and this session, which decides what each message means for the call.
 *
 * - Audio: raw binary frames both ways in the caller's own format (`mulaw` 8 kHz for Twilio, so
 *   μ-law passes through untouched; `linear16` at the caller's rate for PCM callers): no conversion.
 * - Handshake: wait for `Welcome`, send `Settings`, wait for `SettingsApplied` (the documented flow).
 * - Barge-in: `UserStartedSpeaking` ("stop playback and discard buffered agent audio") →
 *   `speechStarted`; binary audio has no ids, so audio arriving after it and before the next
 *   `AgentStartedSpeaking` is the old answer's and is dropped here.
 * - What was heard: no truncate and no silent context message; `UpdatePrompt` (adds to the
 *   prompt, does not make the agent speak) carries the answer's transcript cut at the heard
 *   fraction. Notes accumulate in the prompt (limit 25 000 characters for managed LLMs).
 * - `KeepAlive` every `keepAliveMs` (the API closes idle sockets).
 */
import { type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { HEARD_PENDING, type HeardPoint, type ModelEvents, type ModelSession, type ModelToolCall, type ToolDefinition } from '../model.js';
import { Answers, heardNote, MAX_TEXT_CHARS, type HeardReport } from '../shared/answers.js';
import { FormatConverter } from '../shared/convert.js';
import { MalformedFrames } from '../shared/malformed.js';
import { ModelLink, type LinkStats } from '../shared/model-link.js';
import { checkSocketUrl, required, resolveLinkOptions, type LinkOptions, type LoggerLike } from '../shared/options.js';
import { PendingToolCalls } from '../shared/tool-calls.js';
import {
  buildFunctionCallResponse, buildSettings, buildUpdatePrompt, KEEP_ALIVE, parseDeepgramMessage, type DeepgramFunctionCall, type DeepgramServerEvent,
} from './codec.js';

export const DEFAULT_DEEPGRAM_AGENT_URL = 'wss://agent.deepgram.com/v1/agent/converse';

export interface DeepgramAgentOptions extends LinkOptions {
  readonly callerFormat: AudioFormat;
  readonly apiKey: string;
  readonly url?: string;
  /** Speech-to-text model (default nova-3). */
  readonly listenModel?: string;
  /** LLM provider and model (default open_ai / gpt-4o-mini). */
  readonly thinkProvider?: string;
  readonly thinkModel?: string;
  /** Text-to-speech model (default aura-2-thalia-en). */
  readonly speakModel?: string;
  readonly instructions?: string;
  /** Client-side functions (`agent.think.functions`); their calls go to the agent's tool runner. */
  readonly tools?: readonly ToolDefinition[];
  /** KeepAlive interval (default 5000 ms; 0 disables). */
  readonly keepAliveMs?: number;
}

export interface DeepgramAgentStats extends LinkStats {
  readonly answers: number;
  readonly outputMs: number;
  readonly lateDropped: number;
  readonly malformedEvents: number;
  readonly heardReports: readonly HeardReport[];
}

export class DeepgramAgentSession implements ModelSession {
  readonly backend = 'deepgram-agent' as const;
  readonly pausable = false;
  private events: ModelEvents | undefined;
  private readonly link: ModelLink;
  private readonly answers: Answers;
  private readonly logger: LoggerLike;
  private readonly url: string;
  private readonly apiKey: string;
  private readonly settings: string;
  /** Assistant text that arrived before its answer's first audio. */
  private pendingText = '';
  private readonly malformed: MalformedFrames;
  private readonly tools: PendingToolCalls;

  constructor(options: DeepgramAgentOptions) {
    this.apiKey = required('apiKey', options.apiKey);
    this.url = checkSocketUrl('url', options.url ?? DEFAULT_DEEPGRAM_AGENT_URL);
    const link = resolveLinkOptions(options);
    this.logger = link.logger;
    this.malformed = new MalformedFrames('deepgram-agent', this.logger, () => this.events);
    const format = options.callerFormat;
    this.settings = buildSettings({
      encoding: format.encoding === 'pcmu' ? 'mulaw' : 'linear16', sampleRate: format.sampleRate,
      listenModel: options.listenModel ?? 'nova-3', thinkProvider: options.thinkProvider ?? 'open_ai',
      thinkModel: options.thinkModel ?? 'gpt-4o-mini', speakModel: options.speakModel ?? 'aura-2-thalia-en',
      prompt: options.instructions, greeting: undefined,
      ...(options.tools === undefined ? {} : { functions: options.tools }),
    });
    this.tools = new PendingToolCalls(options.tools, 'deepgram');
    // Same format both ways: the converter is a passthrough that only copies.
    this.answers = new Answers('deepgram', format, new FormatConverter(format, format), () => this.events);
    this.link = new ModelLink(link, {
      request: () => ({ url: this.url, headers: { Authorization: `Token ${this.apiKey}` } }),
      opened: () => undefined, // Settings go out after Welcome
      text: (text) => this.onText(text),
      binary: (bytes) => this.onAudio(bytes),
      sendAudio: (bytes) => this.link.sendBinary(bytes.slice()),
      interrupted: (reason) => {
        this.answers.finish('failed');
        // The next socket is a new conversation: its agent never asked for the old calls.
        this.tools.clear();
        this.logger.info({ reason }, 'deepgram socket ended: a new agent conversation follows (no resumption in this API)');
      },
      restored: () => this.logger.info({}, 'deepgram agent restored (new conversation)'),
      lost: (error) => this.events?.closed(error.message, error),
    }, { everyMs: options.keepAliveMs ?? 5000, message: KEEP_ALIVE });
  }

  get stats(): DeepgramAgentStats {
    return { ...this.link.stats, ...this.answers.stats, malformedEvents: this.malformed.count, heardReports: this.answers.heardReports };
  }

  /**
   * A function's output as `FunctionCallResponse`. The agent answers it by itself once it has the
   * result, so `respond` cannot be honoured (after a barge-in the caller's new turn leads anyway).
   */
  toolResult(callId: string, output: string, _respond: boolean): void {
    const name = this.tools.take(callId);
    if (name === undefined) {
      this.logger.debug({ callId }, 'deepgram function result for a call that is not pending: not sent');
      return;
    }
    if (!this.link.sendText(buildFunctionCallResponse(callId, name, output))) {
      this.logger.warn({ callId, function: name }, 'deepgram function result not sent: socket not open');
    }
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  connect(): Promise<void> {
    return this.link.connect();
  }

  appendAudio(bytes: Uint8Array, durationMs: number): void {
    this.link.appendAudio(bytes, durationMs);
  }

  /** Deepgram stops the agent itself on UserStartedSpeaking; it can only be told what was heard. */
  /** Nothing to cancel here (the server interrupts itself); what was heard is noted now or in `heard()`. */
  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void {
    if (heard !== HEARD_PENDING) this.heard(heard);
  }

  /** Tells the model what the caller heard of its interrupted answer (a context note). */
  heard(heard: HeardPoint | undefined): void {
    if (heard === undefined) return;
    const report = this.answers.reportHeard(heard.itemId, heard.audioEndMs);
    if (report === undefined) return;
    const sent = this.link.sendText(buildUpdatePrompt(heardNote(report)));
    this.logger.info({ heardMs: Math.round(report.heardMs), generatedMs: Math.round(report.generatedMs), heardText: report.heardText, sent }, 'told deepgram what the caller heard');
  }

  close(): void {
    this.link.close();
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount;
  }

  private onAudio(bytes: Uint8Array): void {
    if (this.link.handshaking) return;
    // Audio without AgentStartedSpeaking starts an answer too (unless it is an interrupted answer's).
    if (this.answers.audio(bytes)) this.flushPendingText();
  }

  private onText(text: string): void {
    const parsed = parseDeepgramMessage(text);
    if (!parsed.ok) {
      this.malformed.report(parsed.error, parsed.field);
      return;
    }
    for (const event of parsed.events) this.onEvent(event);
  }

  private onEvent(event: DeepgramServerEvent): void {
    switch (event.kind) {
      case 'welcome':
        this.link.sendSetup(this.settings);
        return;
      case 'settings-applied':
        this.link.handshakeDone();
        return;
      case 'user-started-speaking':
        this.events?.speechStarted();
        this.answers.interrupt(true);
        this.pendingText = '';
        return;
      case 'agent-started-speaking':
        this.answers.begin();
        this.flushPendingText();
        return;
      case 'conversation-text':
        if (event.role === 'assistant') {
          // Bounded like the answer's own text (Answers caps it at MAX_TEXT_CHARS).
          this.pendingText = (this.pendingText + (this.pendingText === '' ? '' : ' ') + event.content).slice(0, MAX_TEXT_CHARS);
          if (this.answers.active !== undefined) this.flushPendingText();
        }
        return;
      case 'agent-audio-done':
        this.answers.finish('completed');
        return;
      case 'error': {
        const error = vwError('VW_ERR_MODEL_EVENT', event.code, event.description);
        if (this.link.handshaking) this.link.handshakeFailed(error);
        else this.events?.error(error);
        return;
      }
      case 'warning':
        this.logger.warn({ code: event.code, description: event.description }, 'deepgram warning');
        return;
      case 'function-call-request':
        this.onFunctionCallRequest(event.functions);
        return;
      case 'injection-refused':
      case 'prompt-updated':
      case 'agent-thinking':
      case 'acknowledged':
        return;
    }
  }

  /**
   * Client-side calls of the session's functions go to the agent; a client-side call of anything
   * else is answered with an error at once. Server-side calls (`client_side: false`) are Deepgram's
   * own business: the server answers them itself.
   */
  private onFunctionCallRequest(functions: readonly DeepgramFunctionCall[]): void {
    const responseId = this.answers.active?.responseId ?? 'deepgram_tool_turn';
    const handOn: ModelToolCall[] = [];
    for (const call of functions) {
      if (!call.clientSide) continue;
      const pending = this.tools.add(responseId, call.id, call.name, call.arguments);
      if (this.tools.offers(call.name) && this.events?.toolCalls !== undefined) handOn.push(pending);
      else this.toolResult(pending.callId, JSON.stringify({ error: `The function ${call.name} is not available.` }), true);
    }
    this.logger.debug({ functions: functions.map((f) => f.name), handedOn: handOn.length }, 'deepgram function call request');
    if (handOn.length > 0) this.events?.toolCalls?.(handOn);
  }

  private flushPendingText(): void {
    if (this.pendingText === '' || this.answers.active === undefined) return;
    this.answers.text((this.answers.active.text === '' ? '' : ' ') + this.pendingText, true);
    this.pendingText = '';
  }
}
