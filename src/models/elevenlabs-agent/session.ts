/**
 * The ElevenLabs Agents backend: one `convai/conversation` WebSocket per call (ModelLink), the pure
 * codec (codec.ts) and this session, which decides what each message means for the call.
 *
 * - Handshake: `conversation_initiation_client_data` (prompt override) → wait for
 *   `conversation_initiation_metadata`, whose audio formats decide the conversion: an agent set to
 *   `ulaw_8000` both ways passes μ-law callers through untouched; `pcm_8000/16000/24000` go through
 *   the resampler; other formats refuse the call at connect. Caller audio before the metadata
 *   (format unknown) is dropped and counted.
 * - Barge-in: `interruption` → `speechStarted`; audio whose `event_id` is ≤ the interruption's is
 *   the old answer's and is dropped here (the SDKs' rule).
 * - Answers: there is no end-of-audio message; an answer ends at the caller's next
 *   `user_transcript`, an interruption, or the next `agent_response`.
 * - What was heard: no truncate; `contextual_update` (non-interrupting background information)
 *   carries the answer's transcript cut at the heard fraction. ElevenLabs also corrects its own
 *   transcript (`agent_response_correction`), from its own estimate of playback.
 * - Keep-alive: every `ping` is answered with a `pong` carrying its `event_id`.
 */
import { type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { HEARD_PENDING, type HeardPoint, type ModelEvents, type ModelSession, type ToolDefinition } from '../model.js';
import { Answers, heardNote, type HeardReport, type OutputConversion } from '../shared/answers.js';
import { FormatConverter } from '../shared/convert.js';
import { MalformedFrames } from '../shared/malformed.js';
import { ModelLink, type LinkStats } from '../shared/model-link.js';
import { checkSocketUrl, required, resolveLinkOptions, type LinkOptions, type LoggerLike } from '../shared/options.js';
import { isErrorOutput, PendingToolCalls } from '../shared/tool-calls.js';
import {
  buildClientToolResult, buildContextualUpdate, buildInitiation, buildPong, buildUserAudio, formatOf, parseElevenMessage, type ElevenServerEvent,
} from './codec.js';

export const DEFAULT_ELEVENLABS_URL = 'wss://api.elevenlabs.io/v1/convai/conversation';

export interface ElevenLabsAgentOptions extends LinkOptions {
  readonly callerFormat: AudioFormat;
  readonly apiKey: string;
  readonly agentId: string;
  readonly url?: string;
  /** Sent as a prompt override (the agent must allow it); undefined keeps the agent's prompt. */
  readonly instructions?: string;
  /**
   * The client tools voicewire answers. ElevenLabs takes tool definitions only from the agent's
   * configuration (dashboard or API), never from the conversation: these names must match client
   * tools defined there. A call of any other tool is answered with an error at once.
   */
  readonly tools?: readonly ToolDefinition[];
}

export interface ElevenLabsAgentStats extends LinkStats {
  readonly answers: number;
  readonly outputMs: number;
  readonly lateDropped: number;
  readonly malformedEvents: number;
  readonly pongsSent: number;
  /** Caller audio dropped before the audio formats were known. */
  readonly earlyInputDroppedMs: number;
  readonly conversationId: string | undefined;
  readonly heardReports: readonly HeardReport[];
}

/** The output converter, chosen when the metadata names the agent's format. */
class Output implements OutputConversion {
  converter: FormatConverter | undefined;
  get passthrough(): boolean {
    return this.converter?.passthrough ?? true;
  }
  convert(wire: Uint8Array): Uint8Array {
    return this.converter === undefined ? wire : this.converter.convert(wire);
  }
  reset(): void {
    this.converter?.reset();
  }
}

export class ElevenLabsAgentSession implements ModelSession {
  readonly backend = 'elevenlabs-agent' as const;
  readonly pausable = false;
  private events: ModelEvents | undefined;
  private readonly link: ModelLink;
  private readonly answers: Answers;
  private readonly output = new Output();
  private inbound: FormatConverter | undefined;
  private readonly logger: LoggerLike;
  private readonly url: string;
  private readonly apiKey: string;
  private readonly initiation: string;
  /** Audio with an event_id at or below this belongs to an interrupted answer. */
  private lastInterruptId = -1;
  private conversationId: string | undefined;
  private readonly malformed: MalformedFrames;
  private readonly tools: PendingToolCalls;
  private pongsSent = 0;
  private earlyInputDroppedMs = 0;

  constructor(private readonly options: ElevenLabsAgentOptions) {
    this.apiKey = required('apiKey', options.apiKey);
    const agentId = required('agentId', options.agentId);
    const url = new URL(checkSocketUrl('url', options.url ?? DEFAULT_ELEVENLABS_URL));
    if (!url.searchParams.has('agent_id')) url.searchParams.set('agent_id', agentId);
    this.url = url.toString();
    const link = resolveLinkOptions(options);
    this.logger = link.logger;
    this.malformed = new MalformedFrames('elevenlabs-agent', this.logger, () => this.events);
    this.tools = new PendingToolCalls(options.tools, 'elevenlabs');
    this.initiation = buildInitiation({ prompt: options.instructions });
    this.answers = new Answers('eleven', options.callerFormat, this.output, () => this.events);
    this.link = new ModelLink(link, {
      request: () => ({ url: this.url, headers: { 'xi-api-key': this.apiKey } }),
      opened: () => this.link.sendSetup(this.initiation),
      text: (text) => this.onText(text),
      binary: () => this.malformed.report(vwError('VW_ERR_BINARY_FRAME')),
      sendAudio: (bytes) => this.link.sendText(buildUserAudio(bytes)),
      interrupted: (reason) => {
        this.tools.clear(); // a new conversation follows: the old calls cannot be answered
        this.answers.finish('failed');
        this.logger.info({ reason }, 'elevenlabs socket ended: a new conversation follows (no resumption in this API)');
      },
      restored: () => this.logger.info({ conversationId: this.conversationId }, 'elevenlabs agent restored (new conversation)'),
      lost: (error) => this.events?.closed(error.message, error),
    });
  }

  get stats(): ElevenLabsAgentStats {
    return {
      ...this.link.stats, ...this.answers.stats, malformedEvents: this.malformed.count, pongsSent: this.pongsSent,
      earlyInputDroppedMs: this.earlyInputDroppedMs, conversationId: this.conversationId, heardReports: this.answers.heardReports,
    };
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  connect(): Promise<void> {
    return this.link.connect();
  }

  appendAudio(bytes: Uint8Array, durationMs: number): void {
    if (this.link.linkState === 'closed') return;
    if (this.inbound === undefined) {
      this.earlyInputDroppedMs += durationMs;
      return;
    }
    this.link.appendAudio(this.inbound.convert(bytes), durationMs);
  }

  /** ElevenLabs stops the agent itself on `interruption`; it can only be told what was heard. */
  /** Nothing to cancel here (the server interrupts itself); what was heard is noted now or in `heard()`. */
  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void {
    if (heard !== HEARD_PENDING) this.heard(heard);
  }

  /** Tells the model what the caller heard of its interrupted answer (a context note). */
  heard(heard: HeardPoint | undefined): void {
    if (heard === undefined) return;
    const report = this.answers.reportHeard(heard.itemId, heard.audioEndMs);
    if (report === undefined) return;
    const sent = this.link.sendText(buildContextualUpdate(heardNote(report)));
    this.logger.info({ heardMs: Math.round(report.heardMs), generatedMs: Math.round(report.generatedMs), heardText: report.heardText, sent }, 'told elevenlabs what the caller heard');
  }

  close(): void {
    this.link.close();
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount;
  }

  private onText(text: string): void {
    const parsed = parseElevenMessage(text);
    if (!parsed.ok) {
      this.malformed.report(parsed.error, parsed.field);
      return;
    }
    for (const event of parsed.events) this.onEvent(event);
  }

  private onEvent(event: ElevenServerEvent): void {
    switch (event.kind) {
      case 'initiation-metadata':
        this.onMetadata(event);
        return;
      case 'audio':
        if (event.eventId <= this.lastInterruptId) {
          this.answers.countLate();
          return;
        }
        this.answers.audio(event.bytes);
        return;
      case 'interruption':
        this.lastInterruptId = Math.max(this.lastInterruptId, event.eventId);
        this.events?.speechStarted();
        this.answers.interrupt(false);
        return;
      case 'ping':
        // Answered even mid-handshake: the server measures latency with it.
        if (this.link.sendSetup(buildPong(event.eventId))) this.pongsSent++;
        return;
      case 'agent-response': {
        const active = this.answers.active;
        if (active === undefined || active.text !== '') this.answers.begin();
        this.answers.setText(event.text);
        return;
      }
      case 'user-transcript':
        this.answers.finish('completed');
        return;
      case 'agent-response-correction':
        this.logger.debug({ corrected: event.corrected }, 'elevenlabs corrected its transcript after an interruption');
        return;
      case 'client-tool-call': {
        // The agent waits for the result of a client tool: one it does not offer is refused at once.
        const responseId = this.answers.active?.responseId ?? 'elevenlabs_tool_turn';
        const call = this.tools.add(responseId, event.toolCallId, event.toolName, JSON.stringify(event.parameters));
        if (this.tools.offers(event.toolName) && this.events?.toolCalls !== undefined) {
          this.events.toolCalls([call]);
          return;
        }
        this.logger.warn({ tool: event.toolName }, 'elevenlabs client tool call of a tool voicewire does not offer: answered with an error');
        this.tools.take(call.callId);
        this.link.sendText(buildClientToolResult(call.callId, `The tool ${event.toolName} is not available.`, true));
        return;
      }
      case 'vad-score':
      case 'tentative-agent-response':
      case 'notice':
        return;
    }
  }

  /**
   * A tool's output as `client_tool_result` (`is_error` for the tool runner's failure output). The
   * agent goes on by itself once it has the result, so `respond` cannot be honoured.
   */
  toolResult(callId: string, output: string, _respond: boolean): void {
    if (this.tools.take(callId) === undefined) {
      this.logger.debug({ callId }, 'elevenlabs tool result for a call that is not pending: not sent');
      return;
    }
    if (!this.link.sendText(buildClientToolResult(callId, output, isErrorOutput(output)))) {
      this.logger.warn({ callId }, 'elevenlabs tool result not sent: socket not open');
    }
  }

  private onMetadata(event: Extract<ElevenServerEvent, { kind: 'initiation-metadata' }>): void {
    const output = formatOf(event.outputFormat);
    const input = formatOf(event.inputFormat);
    if (output === undefined || input === undefined) {
      this.link.handshakeFailed(vwError('VW_ERR_MODEL_UNAVAILABLE', `agent audio formats ${event.outputFormat}/${event.inputFormat} are not supported (use ulaw_8000 or pcm_8000/16000/24000)`));
      return;
    }
    this.conversationId = event.conversationId;
    this.output.converter = new FormatConverter(output, this.options.callerFormat);
    this.inbound = new FormatConverter(this.options.callerFormat, input);
    this.lastInterruptId = -1; // event ids restart with the conversation
    this.link.handshakeDone();
  }
}
