/**
 * A fake Deepgram Voice Agent API v1 (`/v1/agent/converse`) over real sockets, after
 * https://developers.deepgram.com/docs/voice-agent-message-flow and the v1 reference:
 *
 * - `Authorization: Token <key>` on the upgrade (HTTP 401 otherwise); `Welcome` first;
 * - the first client message must be `Settings` (else `Error` and close); `SettingsApplied`;
 * - binary caller audio in the Settings' input encoding through an energy VAD on the audio clock:
 *   speech start → `UserStartedSpeaking` (every utterance, as documented) and the answer stops;
 *   silence → `ConversationText` (user), `AgentThinking`, `ConversationText` (assistant),
 *   `AgentStartedSpeaking`, binary audio faster than real time, `AgentAudioDone`;
 * - `lateChunksAfterInterrupt`: audio frames already in flight still arrive after
 *   `UserStartedSpeaking` (binary audio has no ids: the client must drop them itself);
 * - `KeepAlive`, `UpdatePrompt` (→ `PromptUpdated`), `InjectAgentMessage` (refused while
 *   speaking) recorded; faults on demand: drop, raw frames;
 * - client-side function calls on demand (`toolPlans`): the caller's next turn gets
 *   `FunctionCallRequest {functions[{id, name, arguments, client_side: true}]}` instead of an
 *   answer; the `FunctionCallResponse {id, name, content}` for it is recorded (`tool-result`) and
 *   the agent answers.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AnswerPacer, FakeVad, bytesPerMsOf, tone, type FakeAudioFormat } from './model-fake-audio.js';
import { FakeModelServer, Records, rawBytes, rawText, type FakeToolPlan, FakeModelApi } from './model-fake-server.js';

export interface FakeDeepgramOptions {
  readonly apiKey?: string;
  readonly detectionDelayMs?: number;
  readonly silenceMs?: number;
  readonly vadThreshold?: number;
  readonly answerMs?: number;
  readonly chunkMs?: number;
  readonly speedFactor?: number;
  readonly transcript?: string;
  readonly lateChunksAfterInterrupt?: number;
  readonly dropAfterChunks?: number;
}

type Resolved = Required<Omit<FakeDeepgramOptions, 'dropAfterChunks'>> & { dropAfterChunks: number | undefined };

export interface DeepgramRecord { readonly at: number; readonly connection: number; readonly kind: string; readonly text?: string }

class DeepgramConnection {
  private vad: FakeVad | undefined;
  private format: FakeAudioFormat | undefined;
  private answer: AnswerPacer | undefined;
  private readonly pendingCalls = new Map<string, string>();

  constructor(
    private readonly fake: FakeDeepgramServer,
    readonly id: number,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data, isBinary) => (isBinary ? this.onAudio(rawBytes(data)) : this.onJson(rawText(data))));
    ws.on('close', () => this.answer?.stop());
    this.send({ type: 'Welcome', request_id: `fake-request-${id}` });
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get speaking(): boolean {
    return this.answer?.running ?? false;
  }

  send(message: Record<string, unknown>): void {
    if (this.isOpen) this.ws.send(JSON.stringify(message));
  }

  sendRaw(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  drop(): void {
    this.answer?.stop();
    this.ws.terminate();
  }

  respond(ms = this.fake.options.answerMs, text = this.fake.options.transcript): void {
    const format = this.format;
    if (format === undefined || this.speaking) return;
    const o = this.fake.options;
    this.send({ type: 'AgentThinking', content: '' });
    this.send({ type: 'ConversationText', role: 'assistant', content: text });
    this.send({ type: 'AgentStartedSpeaking', total_latency: 0.3, tts_latency: 0.1, ttt_latency: 0.2 });
    this.fake.record(this.id, 'answer-start');
    this.answer = new AnswerPacer(ms, o.chunkMs, o.speedFactor, (startMs, chunkMs, index) => {
      if (this.isOpen) this.ws.send(tone(format, startMs, chunkMs));
      this.fake.audioSentMs += chunkMs;
      if (this.fake.takeDrop(index + 1)) this.drop();
    }, () => {
      this.send({ type: 'AgentAudioDone' });
      this.fake.record(this.id, 'audio-done');
    });
  }

  private onJson(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.send({ type: 'Error', description: 'Failed to parse client message', code: 'INVALID_JSON' });
      return;
    }
    const type = typeof message.type === 'string' ? message.type : '';
    if (this.format === undefined) {
      if (type !== 'Settings') {
        this.send({ type: 'Error', description: 'Settings must be the first message', code: 'UNPARSABLE_CLIENT_MESSAGE' });
        this.ws.close(1008, 'no settings');
        return;
      }
      this.onSettings(message);
      return;
    }
    switch (type) {
      case 'KeepAlive':
        this.fake.record(this.id, 'keep-alive');
        return;
      case 'UpdatePrompt':
        this.fake.record(this.id, 'update-prompt', String(message.prompt));
        this.send({ type: 'PromptUpdated' });
        return;
      case 'InjectAgentMessage':
        this.fake.record(this.id, 'inject-agent-message', String(message.message));
        if (this.speaking || this.vad?.speaking === true) this.send({ type: 'InjectionRefused', message: 'busy' });
        else this.respond(1000, String(message.message));
        return;
      case 'FunctionCallResponse': {
        const id = typeof message.id === 'string' ? message.id : '';
        if (this.pendingCalls.get(id) !== message.name || typeof message.content !== 'string') {
          this.send({ type: 'Error', description: 'FunctionCallResponse does not answer a pending function call', code: 'UNPARSABLE_CLIENT_MESSAGE' });
          return;
        }
        this.pendingCalls.delete(id);
        this.fake.record(this.id, 'tool-result', message.content);
        this.respond();
        return;
      }
      default:
        this.send({ type: 'Error', description: `Unknown message type ${type}`, code: 'UNPARSABLE_CLIENT_MESSAGE' });
    }
  }

  private onSettings(message: Record<string, unknown>): void {
    const input = (message.audio as { input?: { encoding?: unknown; sample_rate?: unknown } } | undefined)?.input;
    const encoding = input?.encoding ?? 'linear16';
    const rate = input?.sample_rate ?? 16000;
    if ((encoding !== 'mulaw' && encoding !== 'linear16') || (rate !== 8000 && rate !== 16000 && rate !== 24000)) {
      this.send({ type: 'Error', description: 'Unsupported audio format', code: 'INVALID_SETTINGS' });
      this.ws.close(1008, 'bad settings');
      return;
    }
    const format: FakeAudioFormat = { encoding: encoding === 'mulaw' ? 'pcmu' : 'pcm16', sampleRate: rate };
    this.format = format;
    const o = this.fake.options;
    this.vad = new FakeVad(format, { detectionDelayMs: o.detectionDelayMs, silenceMs: o.silenceMs, threshold: o.vadThreshold },
      () => this.onSpeechStart(), () => this.onSpeechStop());
    this.fake.settings.push({ at: FakeModelServer.now(), connection: this.id, kind: 'settings', text: JSON.stringify(message) });
    this.send({ type: 'SettingsApplied' });
    this.fake.record(this.id, 'settings-applied');
  }

  private onAudio(bytes: Uint8Array): void {
    if (this.format === undefined || this.vad === undefined) return;
    this.fake.appendedMs += bytes.length / bytesPerMsOf(this.format);
    this.vad.feed(bytes);
  }

  private onSpeechStart(): void {
    this.send({ type: 'UserStartedSpeaking' });
    const answer = this.answer;
    if (answer === undefined || !answer.running) {
      this.fake.record(this.id, 'user-started-speaking');
      return;
    }
    answer.stop();
    this.fake.record(this.id, 'interrupted');
    // Frames already in flight: the rest of the old answer's audio still arrives.
    const format = this.format!;
    for (let i = 0; i < this.fake.options.lateChunksAfterInterrupt; i++) {
      if (this.isOpen) this.ws.send(tone(format, answer.audioSentMs + i * this.fake.options.chunkMs, this.fake.options.chunkMs));
    }
  }

  private onSpeechStop(): void {
    this.send({ type: 'ConversationText', role: 'user', content: 'caller speech' });
    const plan = this.fake.toolPlans.shift();
    if (plan === undefined) {
      this.respond();
      return;
    }
    const id = `fc_fake_${this.id}_${++this.fake.toolSeq}`;
    this.pendingCalls.set(id, plan.name);
    this.send({ type: 'FunctionCallRequest', functions: [{ id, name: plan.name, arguments: JSON.stringify(plan.args), client_side: true }] });
    this.fake.record(this.id, 'tool-call', JSON.stringify({ id, name: plan.name, args: plan.args }));
  }
}

export class FakeDeepgramServer extends FakeModelApi<DeepgramConnection> {
  readonly options: Resolved;
  readonly server: FakeModelServer;
  readonly records: Records<DeepgramRecord>;
  readonly settings: Records<DeepgramRecord>;
  /** Function calls to make, one per caller turn, instead of answering. */
  readonly toolPlans: FakeToolPlan[] = [];
  toolSeq = 0;
  appendedMs = 0;
  audioSentMs = 0;

  private constructor(options: FakeDeepgramOptions) {
    super('fake deepgram', options.dropAfterChunks);
    this.options = {
      apiKey: options.apiKey ?? 'test-key',
      detectionDelayMs: options.detectionDelayMs ?? 100,
      silenceMs: options.silenceMs ?? 500,
      vadThreshold: options.vadThreshold ?? 500,
      answerMs: options.answerMs ?? 20_000,
      chunkMs: options.chunkMs ?? 100,
      speedFactor: options.speedFactor ?? 10,
      transcript: options.transcript ?? 'Hello, this is the fake Deepgram agent answering your question at some length today.',
      lateChunksAfterInterrupt: options.lateChunksAfterInterrupt ?? 2,
      dropAfterChunks: options.dropAfterChunks,
    };
    this.server = new FakeModelServer('fake deepgram', {
      authorized: (req: IncomingMessage) => req.headers.authorization === `Token ${this.options.apiKey}`,
      connection: (ws, id) => {
        this.latest = new DeepgramConnection(this, id, ws);
      },
    });
    const notify = (): void => this.server.conditions.notify();
    this.records = new Records(notify);
    this.settings = new Records(notify);
  }

  static async start(options: FakeDeepgramOptions = {}): Promise<FakeDeepgramServer> {
    const fake = new FakeDeepgramServer(options);
    await fake.server.listen();
    return fake;
  }

  url(): string {
    return `ws://127.0.0.1:${this.server.port}/v1/agent/converse`;
  }

  recordsOf(kind: string): DeepgramRecord[] {
    return this.records.items.filter((r) => r.kind === kind);
  }

  record(connection: number, kind: string, text?: string): void {
    this.records.push({ at: FakeModelServer.now(), connection, kind, ...(text === undefined ? {} : { text }) });
  }
}
