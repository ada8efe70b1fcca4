/**
 * The Gemini Live backend: one `BidiGenerateContent` WebSocket per call (ModelLink), the pure
 * codec (codec.ts) and this session, which decides what each event means for the call.
 *
 * - Audio: caller audio → PCM16 16 kHz `realtimeInput`; model audio (PCM16 24 kHz inline data) →
 *   the caller's format, through the resampler.
 * - Barge-in: `serverContent.interrupted` (Gemini's VAD heard the caller while it was generating)
 *   → `speechStarted`. Gemini sends nothing once generation is complete, yet the caller may still
 *   be hearing seconds of buffered answer: while no answer is generating, the gateway's own energy
 *   VAD (src/audio/vad.ts) on the caller audio raises `speechStarted` (the session ignores it when
 *   the caller holds nothing unplayed).
 * - What was heard: Gemini has no truncate; after a barge-in the session adds a `clientContent`
 *   note (turnComplete false: no reply) with the answer's transcript cut at the heard fraction.
 * - Connection limits: `sessionResumptionUpdate` handles are kept; on `goAway` the link switches
 *   to a new socket resuming the session between turns (at once when idle, else at turnComplete);
 *   an unexpected drop also resumes with the last handle.
 */
import { PCM16_16K, PCM16_24K, type AudioFormat, type SampleRate } from '../../audio/format.js';
import { EnergyVad } from '../../audio/vad.js';
import { HEARD_PENDING, type HeardPoint, type ModelEvents, type ModelSession, type ModelToolCall, type TokenUsage, type ToolDefinition } from '../model.js';
import { Answers, heardNote, type HeardReport, type OutputConversion } from '../shared/answers.js';
import { FormatConverter } from '../shared/convert.js';
import { MalformedFrames } from '../shared/malformed.js';
import { ModelLink, type LinkRequest, type LinkStats } from '../shared/model-link.js';
import { PendingToolCalls } from '../shared/tool-calls.js';
import { checkSocketUrl, required, resolveLinkOptions, type LinkOptions, type LoggerLike } from '../shared/options.js';
import { buildContextNote, buildRealtimeAudio, buildSetup, buildToolResponse, parseGeminiMessage, type GeminiFunctionCall, type GeminiServerEvent } from './codec.js';

export const DEFAULT_GEMINI_LIVE_URL =
  'wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent';
export const DEFAULT_GEMINI_MODEL = 'gemini-3.1-flash-live-preview';

export interface GeminiLiveOptions extends LinkOptions {
  readonly callerFormat: AudioFormat;
  readonly apiKey: string;
  /** Default Google's endpoint; Vertex, a proxy or a test server work too. */
  readonly url?: string;
  readonly model?: string;
  /** Prebuilt voice name (e.g. `Puck`); default: the model's. */
  readonly voice?: string;
  readonly instructions?: string;
  /** Functions the model may call (`setup.tools`); their calls go to the agent's tool runner. */
  readonly tools?: readonly ToolDefinition[];
}

export interface GeminiLiveStats extends LinkStats {
  readonly answers: number;
  readonly outputMs: number;
  readonly lateDropped: number;
  readonly malformedEvents: number;
  readonly resumptionHandle: string | undefined;
  /** Barge-ins raised by the gateway's VAD (after generation had finished). */
  readonly localBargeIns: number;
  readonly heardReports: readonly HeardReport[];
}

/** Output converters per model rate (the docs say 24 kHz; the mime type is honoured if it differs). */
class GeminiOutput implements OutputConversion {
  rate: SampleRate = 24000;
  private readonly converters = new Map<number, FormatConverter>();
  constructor(private readonly callerFormat: AudioFormat) {}
  get passthrough(): boolean {
    return this.converter().passthrough;
  }
  convert(wire: Uint8Array): Uint8Array {
    return this.converter().convert(wire);
  }
  reset(): void {
    for (const converter of this.converters.values()) converter.reset();
  }
  private converter(): FormatConverter {
    let converter = this.converters.get(this.rate);
    if (converter === undefined) {
      converter = new FormatConverter({ ...PCM16_24K, sampleRate: this.rate }, this.callerFormat);
      this.converters.set(this.rate, converter);
    }
    return converter;
  }
}

export class GeminiLiveSession implements ModelSession {
  readonly backend = 'gemini-live' as const;
  readonly pausable = false;
  private events: ModelEvents | undefined;
  private readonly link: ModelLink;
  private readonly answers: Answers;
  private readonly output: GeminiOutput;
  private readonly inbound: FormatConverter;
  /** Barge-in after generation has finished (Gemini's own VAD no longer reports it). */
  private readonly localVad = new EnergyVad({ sampleRate: 16000 });
  private readonly logger: LoggerLike;
  private readonly url: string;
  private readonly apiKey: string;
  private handle: string | undefined;
  /** The latest `usageMetadata`, waiting for the turnComplete of the answer it counts. */
  private usage: TokenUsage | undefined;
  /** goAway arrived while an answer was generating: switch sockets at its turnComplete. */
  private switchPending = false;
  private localBargeIns = 0;
  private readonly malformed: MalformedFrames;
  private readonly tools: PendingToolCalls;

  constructor(private readonly options: GeminiLiveOptions) {
    this.tools = new PendingToolCalls(options.tools, 'gemini');
    this.apiKey = required('apiKey', options.apiKey);
    this.url = checkSocketUrl('url', options.url ?? DEFAULT_GEMINI_LIVE_URL);
    const link = resolveLinkOptions(options);
    this.logger = link.logger;
    this.malformed = new MalformedFrames('gemini-live', this.logger, () => this.events);
    this.inbound = new FormatConverter(options.callerFormat, PCM16_16K);
    this.output = new GeminiOutput(options.callerFormat);
    this.answers = new Answers('gemini', options.callerFormat, this.output, () => this.events);
    this.link = new ModelLink(link, {
      request: () => this.request(),
      opened: () => this.link.sendSetup(buildSetup({
        model: options.model ?? DEFAULT_GEMINI_MODEL, voice: options.voice, instructions: options.instructions, resumptionHandle: this.handle,
        ...(options.tools === undefined ? {} : { tools: options.tools }),
      })),
      text: (text) => this.onFrame(text),
      // Gemini sends its JSON in binary frames too.
      binary: (bytes) => this.onFrame(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')),
      sendAudio: (bytes) => this.link.sendText(buildRealtimeAudio(bytes)),
      interrupted: (reason, planned) => this.onLinkInterrupted(reason, planned),
      restored: (planned) => this.logger.info({ planned, resumed: this.handle !== undefined }, 'gemini session restored'),
      lost: (error) => this.events?.closed(error.message, error),
    });
  }

  get stats(): GeminiLiveStats {
    return { ...this.link.stats, ...this.answers.stats, malformedEvents: this.malformed.count, resumptionHandle: this.handle, localBargeIns: this.localBargeIns, heardReports: this.answers.heardReports };
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  connect(): Promise<void> {
    return this.link.connect();
  }

  appendAudio(bytes: Uint8Array, durationMs: number): void {
    if (this.link.linkState === 'closed') return;
    const pcm = this.inbound.convert(bytes);
    this.listenLocally(pcm);
    this.link.appendAudio(pcm, durationMs);
  }

  /**
   * Gemini cannot be told to stop (its own VAD already stopped generation when it sent
   * `interrupted`); what it can be told is what the caller heard.
   */
  /** Nothing to cancel here (the server interrupts itself); what was heard is noted now or in `heard()`. */
  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void {
    if (heard !== HEARD_PENDING) this.heard(heard);
  }

  /** Tells the model what the caller heard of its interrupted answer (a context note). */
  heard(heard: HeardPoint | undefined): void {
    if (heard === undefined) return;
    const report = this.answers.reportHeard(heard.itemId, heard.audioEndMs);
    if (report === undefined) return;
    const sent = this.link.sendText(buildContextNote(heardNote(report)));
    this.logger.info({ heardMs: Math.round(report.heardMs), generatedMs: Math.round(report.generatedMs), heardText: report.heardText, sent }, 'told gemini what the caller heard');
  }

  close(): void {
    this.link.close();
  }

  /**
   * A function's output as `toolResponse`. Gemini waits for it and then goes on by itself, so
   * `respond` cannot be honoured here: after a barge-in the answer that follows is the one Gemini
   * gives (its VAD has the caller's turn too). A call Gemini cancelled is not answered.
   */
  toolResult(callId: string, output: string, _respond: boolean): void {
    const name = this.tools.take(callId);
    if (name === undefined) {
      this.logger.debug({ callId }, 'gemini tool result for a call that is not pending (cancelled or unknown): not sent');
      return;
    }
    const sent = this.link.sendText(buildToolResponse(callId, name, output));
    if (!sent) this.logger.warn({ callId, tool: name }, 'gemini tool result not sent: socket not open');
  }

  bufferedAmount(): number {
    return this.link.bufferedAmount;
  }

  private request(): LinkRequest {
    const url = new URL(this.url);
    // Google's endpoint documents the key as a query parameter; the header serves proxies and Vertex-style gateways.
    if (url.hostname === 'generativelanguage.googleapis.com' && !url.searchParams.has('key')) url.searchParams.set('key', this.apiKey);
    return { url: url.toString(), headers: { 'x-goog-api-key': this.apiKey } };
  }

  private onFrame(text: string): void {
    const parsed = parseGeminiMessage(text);
    if (!parsed.ok) {
      this.malformed.report(parsed.error, parsed.field);
      return;
    }
    for (const event of parsed.events) this.onEvent(event);
  }

  private onEvent(event: GeminiServerEvent): void {
    switch (event.kind) {
      case 'setup-complete':
        this.link.handshakeDone();
        return;
      case 'audio':
        this.output.rate = event.sampleRate as SampleRate;
        this.answers.audio(event.bytes);
        return;
      case 'output-transcription':
        this.answers.text(event.text);
        return;
      case 'interrupted':
        // The session marks the answer dropped and calls interrupt(heard) before the answer ends here.
        this.events?.speechStarted();
        this.answers.interrupt(false);
        return;
      case 'turn-complete':
        this.answers.finish('completed', this.usage);
        this.usage = undefined;
        if (this.switchPending) this.switchSockets();
        return;
      case 'go-away':
        this.logger.info({ timeLeftMs: event.timeLeftMs, answering: this.answers.active !== undefined }, 'gemini goAway');
        if (this.answers.active === undefined) this.switchSockets();
        else this.switchPending = true;
        return;
      case 'resumption-update':
        if (event.resumable && event.handle !== undefined) this.handle = event.handle;
        return;
      case 'tool-call':
        this.onToolCall(event.calls);
        return;
      case 'tool-call-cancellation': {
        const cancelled = this.tools.cancel(event.ids);
        this.logger.info({ ids: event.ids, cancelled }, 'gemini cancelled tool calls: their results will not be sent');
        return;
      }
      case 'input-transcription':
      case 'text':
      case 'generation-complete':
        return;
      case 'usage':
        // Reported with (or before) the turnComplete of the answer it counts.
        if (event.usage !== undefined) this.usage = event.usage;
        return;
    }
  }

  /** Calls of the session's tools go to the agent; anything else is answered with an error at once. */
  private onToolCall(calls: readonly GeminiFunctionCall[]): void {
    const responseId = this.answers.active?.responseId ?? 'gemini_tool_turn';
    const handOn: ModelToolCall[] = [];
    for (const call of calls) {
      const pending = this.tools.add(responseId, call.id, call.name, JSON.stringify(call.args));
      if (this.tools.offers(call.name) && this.events?.toolCalls !== undefined) handOn.push(pending);
      else this.toolResult(pending.callId, JSON.stringify({ error: `The tool ${call.name} is not available.` }), true);
    }
    this.logger.debug({ calls: calls.map((c) => c.name), handedOn: handOn.length }, 'gemini tool call');
    if (handOn.length > 0) this.events?.toolCalls?.(handOn);
  }

  /** The gateway's VAD on caller audio (PCM16 16 kHz): speech while no answer is generating is a barge-in. */
  private listenLocally(pcm: Uint8Array): void {
    const samples = pcm.byteOffset % 2 === 0
      ? new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1)
      : new Int16Array(pcm.slice().buffer, 0, pcm.byteLength >> 1);
    for (const event of this.localVad.process(samples)) {
      if (event.type === 'speech-start' && this.answers.active === undefined) {
        this.localBargeIns++;
        this.events?.speechStarted();
      }
    }
  }

  private switchSockets(): void {
    this.switchPending = false;
    this.link.switchNow('goAway');
  }

  private onLinkInterrupted(reason: string, planned: boolean): void {
    this.switchPending = false;
    // An answer in flight does not survive the socket; the session keeps and plays what it queued.
    this.answers.finish('failed');
    this.logger.info({ reason, planned, resumable: this.handle !== undefined }, 'gemini socket ended: resuming on a new one');
  }
}
