/**
 * A fake Gemini Live API (`BidiGenerateContent`) over real sockets, after the `@google/genai` Live
 * types and https://ai.google.dev/gemini-api/docs/live-session:
 *
 * - key as `?key=` or `x-goog-api-key` (HTTP 401 otherwise; the real refusal is unconfirmed);
 * - first client message must be `setup`; answered by `setupComplete` and a
 *   `sessionResumptionUpdate`; a `setup.sessionResumption.handle` it issued resumes the session;
 * - `realtimeInput.audio` (`audio/pcm;rate=16000`) through an energy VAD on the audio clock:
 *   speech start → `interrupted` if an answer is still generating (generation stops; nothing
 *   once it has completed); silence → `inputTranscription`, then an answer: `modelTurn` audio (`audio/pcm;rate=24000`) faster than real
 *   time with `outputTranscription` fragments, then `generationComplete` and `turnComplete`;
 * - `clientContent` recorded (context notes); faults on demand: `goAway`, drop, raw frames;
 * - function calling on demand (`toolPlans`): the caller's next turn gets `toolCall.functionCalls
 *   [{id, name, args}]` instead of an answer; the client's `toolResponse.functionResponses[{id, name,
 *   response}]` (id and name must match, `response` an object) is recorded and answered.
 *
 * Frames are sent as binary JSON by default, as the real service does.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AnswerPacer, FakeVad, PCM_16K, PCM_24K, bytesPerMsOf, tone, wordsDue } from './model-fake-audio.js';
import { FakeModelServer, Records, rawText, type FakeToolPlan, FakeModelApi } from './model-fake-server.js';

export interface FakeGeminiOptions {
  readonly apiKey?: string;
  readonly detectionDelayMs?: number;
  readonly silenceMs?: number;
  readonly vadThreshold?: number;
  readonly answerMs?: number;
  readonly chunkMs?: number;
  readonly speedFactor?: number;
  readonly transcript?: string;
  /** Send JSON in binary frames (default, like Google) or text frames. */
  readonly frames?: 'binary' | 'text';
  /** Kill the connection (no close frame) after this many audio chunks of an answer (once). */
  readonly dropAfterChunks?: number;
}

type Resolved = Required<Omit<FakeGeminiOptions, 'dropAfterChunks'>> & { dropAfterChunks: number | undefined };

export interface GeminiSetupRecord { readonly at: number; readonly connection: number; readonly setup: Record<string, unknown> }
/**
 * The usage every completed fake answer reports, with its turnComplete, in the shape of
 * test/fixtures/gemini/server.serverContent.turnComplete.json (`UsageMetadata` of @google/genai).
 */
export const FAKE_USAGE_METADATA = { promptTokenCount: 90, responseTokenCount: 30, totalTokenCount: 120 } as const;

export interface GeminiNoteRecord { readonly at: number; readonly connection: number; readonly text: string; readonly turnComplete: boolean }
export interface GeminiEventRecord { readonly at: number; readonly connection: number; readonly kind: string }
/** A function call the fake made (`call`) or the client's `toolResponse` to it (`result`, `text` = the response object as JSON). */
export interface GeminiToolRecord { readonly at: number; readonly connection: number; readonly kind: 'call' | 'result'; readonly id: string; readonly name: string; readonly text: string }

class GeminiConnection {
  private vad: FakeVad;
  private answer: AnswerPacer | undefined;
  private configured = false;
  private readonly pendingCalls = new Map<string, string>();

  constructor(
    private readonly fake: FakeGeminiServer,
    readonly id: number,
    private readonly ws: WebSocket,
  ) {
    const o = fake.options;
    this.vad = new FakeVad(PCM_16K, { detectionDelayMs: o.detectionDelayMs, silenceMs: o.silenceMs, threshold: o.vadThreshold },
      () => this.onSpeechStart(), () => this.onSpeechStop());
    ws.on('message', (data) => this.onMessage(rawText(data)));
    ws.on('close', () => this.answer?.stop());
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get generating(): boolean {
    return this.answer?.running ?? false;
  }

  send(message: Record<string, unknown>): void {
    if (!this.isOpen) return;
    const text = JSON.stringify(message);
    this.ws.send(this.fake.options.frames === 'binary' ? Buffer.from(text, 'utf8') : text);
  }

  sendRaw(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  drop(): void {
    this.answer?.stop();
    this.ws.terminate();
  }

  respond(ms = this.fake.options.answerMs): void {
    if (this.generating) return;
    const o = this.fake.options;
    const words = o.transcript.split(/\s+/).filter((w) => w !== '');
    let wordsSent = 0;
    this.fake.event(this.id, 'answer-start');
    this.answer = new AnswerPacer(ms, o.chunkMs, o.speedFactor, (startMs, chunkMs, index) => {
      const data = Buffer.from(tone(PCM_24K, startMs, chunkMs)).toString('base64');
      this.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data } }] } } });
      const due = wordsDue(words, startMs + chunkMs, ms);
      if (due > wordsSent) {
        this.send({ serverContent: { outputTranscription: { text: (wordsSent === 0 ? '' : ' ') + words.slice(wordsSent, due).join(' ') } } });
        wordsSent = due;
      }
      this.fake.audioSentMs += chunkMs;
      if (this.fake.takeDrop(index + 1)) this.drop();
    }, () => {
      this.send({ serverContent: { generationComplete: true } });
      this.send({ serverContent: { turnComplete: true }, usageMetadata: FAKE_USAGE_METADATA });
      this.fake.event(this.id, 'turn-complete');
      this.sendHandle();
    });
  }

  goAway(timeLeftMs: number): void {
    this.send({ goAway: { timeLeft: `${(timeLeftMs / 1000).toFixed(3)}s` } });
    this.fake.event(this.id, 'go-away');
    setTimeout(() => {
      if (this.isOpen) this.ws.close(1000, 'goAway');
    }, timeLeftMs).unref();
  }

  private onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.ws.close(1007, 'Invalid JSON payload');
      return;
    }
    if (!this.configured) {
      const setup = message.setup as Record<string, unknown> | undefined;
      if (typeof setup !== 'object' || setup === null || typeof setup.model !== 'string') {
        this.ws.close(1007, 'setup must be the first message');
        return;
      }
      this.onSetup(setup);
      return;
    }
    const input = message.realtimeInput as { audio?: { data?: unknown; mimeType?: unknown } } | undefined;
    if (input?.audio !== undefined) {
      if (input.audio.mimeType !== 'audio/pcm;rate=16000' || typeof input.audio.data !== 'string') {
        this.ws.close(1007, 'Unsupported realtimeInput audio');
        return;
      }
      const bytes = Buffer.from(input.audio.data, 'base64');
      this.fake.appendedMs += bytes.length / bytesPerMsOf(PCM_16K);
      this.vad.feed(bytes);
      this.fake.server.conditions.notify();
      return;
    }
    const toolResponse = message.toolResponse as { functionResponses?: unknown } | undefined;
    if (toolResponse !== undefined) {
      this.onToolResponse(toolResponse.functionResponses);
      return;
    }
    const content = message.clientContent as { turns?: Array<{ parts?: Array<{ text?: string }> }>; turnComplete?: boolean } | undefined;
    if (content !== undefined) {
      const text = (content.turns ?? []).flatMap((t) => t.parts ?? []).map((p) => p.text ?? '').join('');
      this.fake.notes.push({ at: FakeModelServer.now(), connection: this.id, text, turnComplete: content.turnComplete === true });
      if (content.turnComplete === true) this.respond();
      return;
    }
    this.ws.close(1007, 'Unknown client message');
  }

  private onSetup(setup: Record<string, unknown>): void {
    this.fake.setups.push({ at: FakeModelServer.now(), connection: this.id, setup });
    const handle = (setup.sessionResumption as { handle?: unknown } | undefined)?.handle;
    if (handle !== undefined && (typeof handle !== 'string' || !this.fake.issuedHandles.has(handle))) {
      this.ws.close(1008, 'Invalid session resumption handle');
      return;
    }
    this.configured = true;
    this.send({ setupComplete: {} });
    this.sendHandle();
    this.fake.event(this.id, 'setup-complete');
  }

  private sendHandle(): void {
    const handle = `fake-handle-${this.id}-${++this.fake.handleSeq}`;
    this.fake.issuedHandles.add(handle);
    this.send({ sessionResumptionUpdate: { newHandle: handle, resumable: true } });
  }

  private onSpeechStart(): void {
    this.fake.event(this.id, 'speech-start');
    // Gemini interrupts only what it is still generating; it does not know what the client plays.
    if (!this.generating) return;
    this.answer?.stop();
    this.send({ serverContent: { interrupted: true } });
    this.fake.event(this.id, 'interrupted');
  }

  private onSpeechStop(): void {
    this.fake.event(this.id, 'speech-stop');
    this.send({ serverContent: { inputTranscription: { text: 'caller speech' } } });
    const plan = this.fake.toolPlans.shift();
    if (plan === undefined) this.respond();
    else this.callTool(plan);
  }

  private callTool(plan: FakeToolPlan): void {
    const id = `fake-call-${this.id}-${++this.fake.toolSeq}`;
    this.pendingCalls.set(id, plan.name);
    this.send({ toolCall: { functionCalls: [{ id, name: plan.name, args: plan.args }] } });
    this.fake.tools.push({ at: FakeModelServer.now(), connection: this.id, kind: 'call', id, name: plan.name, text: JSON.stringify(plan.args) });
  }

  private onToolResponse(responses: unknown): void {
    if (!Array.isArray(responses) || responses.length === 0) {
      this.ws.close(1007, 'toolResponse.functionResponses must be a non-empty array');
      return;
    }
    for (const response of responses as Array<{ id?: unknown; name?: unknown; response?: unknown }>) {
      const id = typeof response.id === 'string' ? response.id : '';
      if (this.pendingCalls.get(id) !== response.name || typeof response.response !== 'object' || response.response === null) {
        this.ws.close(1007, 'functionResponses[] must answer a pending call with {id, name, response}');
        return;
      }
      this.pendingCalls.delete(id);
      this.fake.tools.push({ at: FakeModelServer.now(), connection: this.id, kind: 'result', id, name: String(response.name), text: JSON.stringify(response.response) });
    }
    // Gemini goes on by itself once it has the results.
    if (this.pendingCalls.size === 0) this.respond();
  }
}

export class FakeGeminiServer extends FakeModelApi<GeminiConnection> {
  readonly options: Resolved;
  readonly server: FakeModelServer;
  readonly setups: Records<GeminiSetupRecord>;
  readonly notes: Records<GeminiNoteRecord>;
  readonly events: Records<GeminiEventRecord>;
  readonly tools: Records<GeminiToolRecord>;
  /** Function calls to make, one per caller turn, instead of answering. */
  readonly toolPlans: FakeToolPlan[] = [];
  toolSeq = 0;
  readonly issuedHandles = new Set<string>();
  handleSeq = 0;
  appendedMs = 0;
  audioSentMs = 0;
  private readonly connections = new Map<number, GeminiConnection>();

  private constructor(options: FakeGeminiOptions) {
    super('fake gemini', options.dropAfterChunks);
    this.options = {
      apiKey: options.apiKey ?? 'test-key',
      detectionDelayMs: options.detectionDelayMs ?? 100,
      silenceMs: options.silenceMs ?? 500,
      vadThreshold: options.vadThreshold ?? 500,
      answerMs: options.answerMs ?? 20_000,
      chunkMs: options.chunkMs ?? 100,
      speedFactor: options.speedFactor ?? 10,
      transcript: options.transcript ?? 'Hello, this is the fake Gemini model answering your question at some length today.',
      frames: options.frames ?? 'binary',
      dropAfterChunks: options.dropAfterChunks,
    };
    this.server = new FakeModelServer('fake gemini', {
      authorized: (req) => this.authorized(req),
      connection: (ws, id) => {
        const connection = new GeminiConnection(this, id, ws);
        this.connections.set(id, connection);
        this.latest = connection;
        ws.on('close', () => this.connections.delete(id));
      },
    });
    const notify = (): void => this.server.conditions.notify();
    this.setups = new Records(notify);
    this.notes = new Records(notify);
    this.events = new Records(notify);
    this.tools = new Records(notify);
  }

  static async start(options: FakeGeminiOptions = {}): Promise<FakeGeminiServer> {
    const fake = new FakeGeminiServer(options);
    await fake.server.listen();
    return fake;
  }

  url(): string {
    return `ws://127.0.0.1:${this.server.port}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  eventsOf(kind: string): GeminiEventRecord[] {
    return this.events.items.filter((e) => e.kind === kind);
  }

  event(connection: number, kind: string): void {
    this.events.push({ at: FakeModelServer.now(), connection, kind });
  }

  goAway(timeLeftMs = 1000): void {
    this.require().goAway(timeLeftMs);
  }

  private authorized(req: IncomingMessage): boolean {
    const key = new URL(req.url ?? '/', 'ws://fake').searchParams.get('key');
    return key === this.options.apiKey || req.headers['x-goog-api-key'] === this.options.apiKey;
  }
}
