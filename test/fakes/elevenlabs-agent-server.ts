/**
 * A fake ElevenLabs Agents WebSocket (`/v1/convai/conversation?agent_id=…`) over real sockets,
 * after the Agents WebSocket reference and the client-events page:
 *
 * - `xi-api-key` header and a known `agent_id` (HTTP 401 / 404 otherwise; the real answers are
 *   unconfirmed); the first client message must be `conversation_initiation_client_data`, answered
 *   by `conversation_initiation_metadata` with the agent's audio formats (default `ulaw_8000`);
 * - `user_audio_chunk` (bare key) through an energy VAD on the audio clock: speech start while the
 *   agent speaks → `interruption` with the last audio `event_id` (generation stops), and
 *   `lateChunksAfterInterrupt` audio events still in flight with ids ≤ it; silence →
 *   `user_transcript`, `agent_response`, `audio` events (incrementing `event_id`) faster than
 *   real time. The agent counts as speaking until its audio would have played out in real time
 *   from the first chunk (the server estimates playback: that is how it can send
 *   `agent_response_correction` with the heard part), so an interruption can come after the last
 *   chunk was sent;
 * - `ping` every `pingEveryMs` with an `event_id`, `pong`s recorded; `contextual_update` recorded;
 *   faults on demand: drop, raw frames;
 * - client tools on demand (`toolPlans`): the caller's next turn gets `client_tool_call
 *   {tool_name, tool_call_id, parameters}` instead of an answer; the `client_tool_result
 *   {tool_call_id, result, is_error}` for it is recorded (`tool-result`) and the agent answers.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { AnswerPacer, FakeVad, bytesPerMsOf, tone, type FakeAudioFormat } from './model-fake-audio.js';
import { FakeModelServer, Records, rawText, type FakeToolPlan, FakeModelApi } from './model-fake-server.js';

export interface FakeElevenOptions {
  readonly apiKey?: string;
  readonly agentId?: string;
  readonly outputFormat?: string;
  readonly inputFormat?: string;
  readonly detectionDelayMs?: number;
  readonly silenceMs?: number;
  readonly vadThreshold?: number;
  readonly answerMs?: number;
  readonly chunkMs?: number;
  readonly speedFactor?: number;
  readonly transcript?: string;
  readonly lateChunksAfterInterrupt?: number;
  /** Ping interval (default 2000 ms; 0 disables). */
  readonly pingEveryMs?: number;
  readonly dropAfterChunks?: number;
}

type Resolved = Required<Omit<FakeElevenOptions, 'dropAfterChunks'>> & { dropAfterChunks: number | undefined };

export interface ElevenRecord { readonly at: number; readonly connection: number; readonly kind: string; readonly text?: string; readonly eventId?: number }

function fakeFormat(name: string): FakeAudioFormat {
  if (name === 'ulaw_8000') return { encoding: 'pcmu', sampleRate: 8000 };
  return { encoding: 'pcm16', sampleRate: Number(name.slice(4)) };
}

class ElevenConnection {
  private vad: FakeVad | undefined;
  private answer: AnswerPacer | undefined;
  private eventId = 0;
  private lastAudioEventId = 0;
  private readonly pendingCalls = new Set<string>();
  private pingTimer: NodeJS.Timeout | undefined;
  /** When the current answer's playback (estimated in real time) started, and its audio so far. */
  private playback: { startedAt: number; audioMs: number; text: string } | undefined;

  constructor(
    private readonly fake: FakeElevenServer,
    readonly id: number,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data) => this.onMessage(rawText(data)));
    ws.on('close', () => {
      this.answer?.stop();
      clearInterval(this.pingTimer);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get speaking(): boolean {
    return this.answer?.running ?? false;
  }

  /** The server's estimate: audio sent has not finished playing in real time yet. */
  get agentTurn(): boolean {
    const p = this.playback;
    return p !== undefined && FakeModelServer.now() < p.startedAt + p.audioMs;
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

  respond(ms = this.fake.options.answerMs): void {
    if (this.speaking || this.vad === undefined) return;
    const o = this.fake.options;
    const output = fakeFormat(o.outputFormat);
    this.send({ type: 'agent_response', agent_response_event: { agent_response: o.transcript } });
    this.fake.record(this.id, 'answer-start');
    const playback = { startedAt: FakeModelServer.now(), audioMs: 0, text: o.transcript };
    this.playback = playback;
    this.answer = new AnswerPacer(ms, o.chunkMs, o.speedFactor, (startMs, chunkMs, index) => {
      playback.audioMs += chunkMs;
      this.lastAudioEventId = ++this.eventId;
      this.send({ type: 'audio', audio_event: { audio_base_64: Buffer.from(tone(output, startMs, chunkMs)).toString('base64'), event_id: this.lastAudioEventId } });
      this.fake.audioSentMs += chunkMs;
      if (this.fake.takeDrop(index + 1)) this.drop();
    }, () => this.fake.record(this.id, 'answer-end'));
  }

  private onMessage(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.ws.close(1008, 'Invalid message');
      return;
    }
    if (this.vad === undefined) {
      if (message.type !== 'conversation_initiation_client_data') {
        this.ws.close(1008, 'conversation_initiation_client_data expected');
        return;
      }
      this.onInitiation(message);
      return;
    }
    if (typeof message.user_audio_chunk === 'string') {
      const bytes = Buffer.from(message.user_audio_chunk, 'base64');
      this.fake.appendedMs += bytes.length / bytesPerMsOf(fakeFormat(this.fake.options.inputFormat));
      this.vad.feed(bytes);
      return;
    }
    switch (message.type) {
      case 'pong':
        this.fake.record(this.id, 'pong', undefined, typeof message.event_id === 'number' ? message.event_id : -1);
        return;
      case 'contextual_update':
        this.fake.record(this.id, 'contextual-update', String(message.text));
        return;
      case 'client_tool_result':
        this.fake.record(this.id, 'client-tool-result', JSON.stringify(message));
        if (typeof message.tool_call_id === 'string' && this.pendingCalls.delete(message.tool_call_id)) {
          if (typeof message.result !== 'string' || typeof message.is_error !== 'boolean') {
            this.ws.close(1008, 'client_tool_result needs result and is_error');
            return;
          }
          this.fake.record(this.id, 'tool-result', message.result);
          this.respond();
        }
        return;
      case 'user_activity':
        return;
      default:
        this.fake.record(this.id, 'unknown-client-message', String(message.type));
    }
  }

  private onInitiation(message: Record<string, unknown>): void {
    const o = this.fake.options;
    this.fake.initiations.push({ at: FakeModelServer.now(), connection: this.id, kind: 'initiation', text: JSON.stringify(message) });
    this.vad = new FakeVad(fakeFormat(o.inputFormat), { detectionDelayMs: o.detectionDelayMs, silenceMs: o.silenceMs, threshold: o.vadThreshold },
      () => this.onSpeechStart(), () => this.onSpeechStop());
    this.send({
      type: 'conversation_initiation_metadata',
      conversation_initiation_metadata_event: { conversation_id: `conv_fake${this.id}`, agent_output_audio_format: o.outputFormat, user_input_audio_format: o.inputFormat },
    });
    if (o.pingEveryMs > 0) {
      this.pingTimer = setInterval(() => {
        const eventId = ++this.eventId;
        this.send({ type: 'ping', ping_event: { event_id: eventId, ping_ms: 42 } });
        this.fake.record(this.id, 'ping', undefined, eventId);
      }, o.pingEveryMs);
      this.pingTimer.unref();
    }
  }

  private onSpeechStart(): void {
    const answer = this.answer;
    const playback = this.playback;
    if (answer === undefined || playback === undefined || !this.agentTurn) return;
    answer.stop();
    this.playback = undefined;
    const interruptedId = this.lastAudioEventId;
    this.send({ type: 'interruption', interruption_event: { event_id: interruptedId } });
    this.fake.record(this.id, 'interrupted', undefined, interruptedId);

    // Audio events already in flight carry ids at or below the interruption's.
    const output = fakeFormat(this.fake.options.outputFormat);
    for (let i = 0; i < this.fake.options.lateChunksAfterInterrupt; i++) {
      this.send({ type: 'audio', audio_event: { audio_base_64: Buffer.from(tone(output, answer.audioSentMs, this.fake.options.chunkMs)).toString('base64'), event_id: interruptedId } });
    }
    const words = playback.text.split(' ');
    const heard = (FakeModelServer.now() - playback.startedAt) / playback.audioMs;
    this.send({
      type: 'agent_response_correction',
      agent_response_correction_event: { original_agent_response: playback.text, corrected_agent_response: words.slice(0, Math.floor(words.length * heard)).join(' ') },
    });
  }

  private onSpeechStop(): void {
    this.send({ type: 'user_transcript', user_transcription_event: { user_transcript: 'caller speech' } });
    const plan = this.fake.toolPlans.shift();
    if (plan === undefined) {
      this.respond();
      return;
    }
    const id = `toolu_fake_${this.id}_${++this.fake.toolSeq}`;
    this.pendingCalls.add(id);
    this.send({ type: 'client_tool_call', client_tool_call: { tool_name: plan.name, tool_call_id: id, parameters: plan.args } });
    this.fake.record(this.id, 'tool-call', JSON.stringify({ id, name: plan.name, args: plan.args }));
  }
}

export class FakeElevenServer extends FakeModelApi<ElevenConnection> {
  readonly options: Resolved;
  readonly server: FakeModelServer;
  /** Client tool calls to make, one per caller turn, instead of answering. */
  readonly toolPlans: FakeToolPlan[] = [];
  toolSeq = 0;
  readonly records: Records<ElevenRecord>;
  readonly initiations: Records<ElevenRecord>;
  appendedMs = 0;
  audioSentMs = 0;

  private constructor(options: FakeElevenOptions) {
    super('fake elevenlabs', options.dropAfterChunks);
    this.options = {
      apiKey: options.apiKey ?? 'test-key',
      agentId: options.agentId ?? 'agent_fake',
      outputFormat: options.outputFormat ?? 'ulaw_8000',
      inputFormat: options.inputFormat ?? 'ulaw_8000',
      detectionDelayMs: options.detectionDelayMs ?? 100,
      silenceMs: options.silenceMs ?? 500,
      vadThreshold: options.vadThreshold ?? 500,
      answerMs: options.answerMs ?? 20_000,
      chunkMs: options.chunkMs ?? 100,
      speedFactor: options.speedFactor ?? 10,
      transcript: options.transcript ?? 'Hello, this is the fake ElevenLabs agent answering your question at some length today.',
      lateChunksAfterInterrupt: options.lateChunksAfterInterrupt ?? 2,
      pingEveryMs: options.pingEveryMs ?? 2000,
      dropAfterChunks: options.dropAfterChunks,
    };
    this.server = new FakeModelServer('fake elevenlabs', {
      authorized: (req: IncomingMessage) =>
        req.headers['xi-api-key'] === this.options.apiKey &&
        new URL(req.url ?? '/', 'ws://fake').searchParams.get('agent_id') === this.options.agentId,
      connection: (ws, id) => {
        this.latest = new ElevenConnection(this, id, ws);
      },
    });
    const notify = (): void => this.server.conditions.notify();
    this.records = new Records(notify);
    this.initiations = new Records(notify);
  }

  static async start(options: FakeElevenOptions = {}): Promise<FakeElevenServer> {
    const fake = new FakeElevenServer(options);
    await fake.server.listen();
    return fake;
  }

  url(): string {
    return `ws://127.0.0.1:${this.server.port}/v1/convai/conversation`;
  }

  recordsOf(kind: string): ElevenRecord[] {
    return this.records.items.filter((r) => r.kind === kind);
  }

  record(connection: number, kind: string, text?: string, eventId?: number): void {
    this.records.push({ at: FakeModelServer.now(), connection, kind, ...(text === undefined ? {} : { text }), ...(eventId === undefined ? {} : { eventId }) });
  }
}
