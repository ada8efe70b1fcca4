/**
 * One client connection to the fake Realtime server: GA session, server VAD on appended audio
 * (audio clock), responses paced faster than real time, cancel / truncate with the real API's
 * answers, and the fault hooks the server exposes.
 */
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { bytesPerMsOf, decodeSamples, EnergyWindows, toneBytes, type FakeWireFormat } from './realtime-server-audio.js';
import { FakeLog } from './realtime-server-log.js';
import {
  applySessionUpdate, defaultSession, validateSessionUpdate, wireFormatOf, type FakeApiError, type FakeSession,
} from './realtime-server-session.js';
import type { ResolvedFakeOptions } from './realtime-server.js';
import { checkItemCreate, functionCallEvents, functionCallItem, inputTranscriptionCompleted, type FakeTurn, type FunctionCallPlan } from './realtime-server-tools.js';

/** What a connection needs from its server. */
export interface FakeServerContext {
  readonly options: ResolvedFakeOptions;
  readonly log: FakeLog;
  nextId(prefix: string): string;
  /** True (once per configured drop) when a response should kill the connection now. */
  takeDrop(deltasSent: number): boolean;
  /** The next scripted turn (undefined once the script is used up: the default answer). */
  takeTurn(): FakeTurn | undefined;
}

interface ActiveResponse {
  readonly id: string;
  readonly itemId: string;
  readonly totalMs: number;
  readonly words: string[];
  readonly startedAt: number;
  sentMs: number;
  deltas: number;
  wordsSent: number;
  timer: NodeJS.Timeout | undefined;
  /** Set once cancelled: deltas still to send (simulated in-flight), then the reason. */
  cancel: { left: number; reason: string } | undefined;
  /** A function call made after the audio (if any). */
  readonly functionCall: FunctionCallPlan | undefined;
}

type VadPhase = 'silence' | 'speech';
const ITEM_MEMORY = 64;

export class FakeConnection {
  readonly id: number;
  session: FakeSession;
  private readonly ctx: FakeServerContext;
  private readonly ws: WebSocket;
  private readonly socket: Duplex;
  private response: ActiveResponse | undefined;
  /** Assistant item id → ms of audio it holds (bounded). */
  private readonly items = new Map<string, number>();
  private lastItemId: string | null = null;
  private inputMs = 0;
  private windows: EnergyWindows;
  private windowsFormat: FakeWireFormat;
  private phase: VadPhase = 'silence';
  private voicedRunMs = 0;
  private silenceRunMs = 0;
  private userItemId = '';
  private stalled = false;

  constructor(ctx: FakeServerContext, id: number, ws: WebSocket, socket: Duplex, model: string) {
    this.ctx = ctx;
    this.id = id;
    this.ws = ws;
    this.socket = socket;
    this.session = defaultSession(ctx.nextId('sess'), model);
    this.windowsFormat = this.inputFormat();
    this.windows = new EnergyWindows(this.windowsFormat, ctx.options.vadThreshold);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => this.stopResponse());
    // A stalled connection must stay stalled even if ws resumes the socket itself.
    socket.on('resume', () => {
      if (this.stalled) socket.pause();
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get activeResponseId(): string | undefined {
    return this.response?.id;
  }

  start(): void {
    this.send({ type: 'session.created', session: this.session });
  }

  send(event: Record<string, unknown>): void {
    if (!this.isOpen) return;
    this.ws.send(JSON.stringify({ event_id: this.ctx.nextId('event'), ...event }));
  }

  sendRaw(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  sendError(error: FakeApiError, clientEventId: string | null = null): void {
    this.ctx.log.add(this.ctx.log.errorsSent, { ...error, at: FakeLog.now(), connection: this.id });
    this.send({ type: 'error', error: { ...error, event_id: clientEventId } });
  }

  /** Simulates a network drop: the TCP connection dies without a close frame. */
  drop(): void {
    this.stopResponse();
    this.ws.terminate();
  }

  close(code = 1000, reason = ''): void {
    this.stopResponse();
    if (this.isOpen) this.ws.close(code, reason);
  }

  /** Stops reading from the socket: the client's send buffer then fills up (a slow model). */
  stall(): void {
    this.stalled = true;
    this.socket.pause();
  }

  unstall(): void {
    this.stalled = false;
    this.socket.resume();
  }

  /** Starts the next scripted answer (or the default one), as `response.create` or the VAD would. */
  respondNext(): string | undefined {
    const turn = this.ctx.takeTurn();
    return this.respond(turn?.audioMs, turn?.text, turn?.functionCall);
  }

  /** Starts a response now (as `response.create` would). Undefined when one is active. */
  respond(
    ms = this.ctx.options.answerMs,
    text = this.ctx.options.transcript,
    call?: { readonly name: string; readonly arguments: string },
  ): string | undefined {
    if (this.response !== undefined) return undefined;
    const id = this.ctx.nextId('resp');
    const itemId = this.ctx.nextId('item');
    const functionCall = call && { itemId: this.ctx.nextId('item'), callId: this.ctx.nextId('call'), name: call.name, arguments: call.arguments };
    const response: ActiveResponse = {
      id, itemId, totalMs: ms, words: text.split(/\s+/).filter((w) => w !== ''), startedAt: FakeLog.now() + this.ctx.options.firstDeltaDelayMs,
      sentMs: 0, deltas: 0, wordsSent: 0, timer: undefined, cancel: undefined, functionCall,
    };
    this.response = response;
    this.send({ type: 'response.created', response: this.responseObject(response, 'in_progress', null, []) });
    if (ms === 0) {
      // No audio: only the function call, right away.
      response.timer = setTimeout(() => this.finish(response, 'completed', null), 0);
      return id;
    }
    const item = this.assistantItem(response, 'in_progress');
    this.send({ type: 'response.output_item.added', response_id: id, output_index: 0, item });
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item });
    this.send({ type: 'response.content_part.added', ...this.partIds(response), part: { type: 'audio', transcript: '' } });
    this.lastItemId = itemId;
    this.rememberItem(itemId, 0);
    this.schedule(response);
    return id;
  }

  /** Sends speech_started (as the VAD would) and applies interrupt_response. */
  speechStarted(source: 'vad' | 'manual', audioStartMs = this.inputMs): void {
    this.phase = 'speech';
    this.silenceRunMs = 0;
    this.userItemId = this.ctx.nextId('item');
    this.ctx.log.add(this.ctx.log.speechStartedAt, { at: FakeLog.now(), connection: this.id, audioStartMs, source });
    this.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: audioStartMs, item_id: this.userItemId });
    if (this.response !== undefined && this.interruptResponse()) this.cancelResponse('turn_detected');
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    let event: unknown;
    try {
      event = isBinary ? undefined : JSON.parse(rawText(data));
    } catch {
      event = undefined;
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event) || typeof (event as { type?: unknown }).type !== 'string') {
      this.ctx.log.recordReceived(this.id, '(invalid)', {});
      this.sendError({ type: 'invalid_request_error', code: 'invalid_json', message: 'Invalid JSON or missing type.', param: null });
      return;
    }
    this.dispatch(event as Record<string, unknown> & { type: string });
  }

  private dispatch(event: Record<string, unknown> & { type: string }): void {
    const clientEventId = typeof event.event_id === 'string' ? event.event_id : null;
    if (event.type === 'input_audio_buffer.append') {
      this.onAppend(event, clientEventId);
      return;
    }
    this.ctx.log.recordReceived(this.id, event.type, event);
    switch (event.type) {
      case 'session.update':
        return this.onSessionUpdate(event.session, clientEventId);
      case 'conversation.item.create':
        return this.onItemCreate(event, clientEventId);
      case 'response.create':
        if (this.response !== undefined) {
          return this.sendError({
            type: 'invalid_request_error', code: 'conversation_already_has_active_response',
            message: `Conversation already has an active response in progress: ${this.response.id}. Wait until the response is finished before creating a new one.`, param: null,
          }, clientEventId);
        }
        this.respondNext();
        return;
      case 'response.cancel':
        return this.onCancel(typeof event.response_id === 'string' ? event.response_id : undefined, clientEventId);
      case 'conversation.item.truncate':
        return this.onTruncate(event, clientEventId);
      case 'input_audio_buffer.commit':
        return this.commit();
      case 'input_audio_buffer.clear':
        this.phase = 'silence';
        this.voicedRunMs = 0;
        return this.send({ type: 'input_audio_buffer.cleared' });
      default:
        return this.sendError({ type: 'invalid_request_error', code: 'invalid_value', message: `Invalid value: '${event.type}'.`, param: 'type' }, clientEventId);
    }
  }

  private onSessionUpdate(session: unknown, clientEventId: string | null): void {
    this.ctx.log.add(this.ctx.log.sessionUpdates, session);
    const fault = this.ctx.options.sessionUpdateFault;
    if (fault === 'ignore') return;
    if (fault !== undefined) return this.sendError(fault, clientEventId);
    const bad = validateSessionUpdate(session);
    if (bad !== undefined) return this.sendError(bad, clientEventId);
    this.session = applySessionUpdate(this.session, session as Record<string, unknown>);
    if (this.inputFormat() !== this.windowsFormat) {
      this.windowsFormat = this.inputFormat();
      this.windows = new EnergyWindows(this.windowsFormat, this.ctx.options.vadThreshold);
    }
    this.send({ type: 'session.updated', session: this.session });
  }

  private onAppend(event: Record<string, unknown>, clientEventId: string | null): void {
    const audio = event.audio;
    const format = this.inputFormat();
    const bytes = typeof audio === 'string' ? Buffer.from(audio, 'base64') : undefined;
    this.ctx.log.recordReceived(this.id, 'input_audio_buffer.append', { type: event.type, audioBytes: bytes?.length ?? -1 });
    if (bytes === undefined) {
      return this.sendError({ type: 'invalid_request_error', code: 'missing_required_parameter', message: "Missing required parameter: 'audio'.", param: 'audio' }, clientEventId);
    }
    const ms = bytes.length / bytesPerMsOf(format);
    this.ctx.log.recordAppend(bytes, ms);
    if (this.session.audio.input.turn_detection === null) {
      this.inputMs += ms;
      return;
    }
    this.windows.feed(decodeSamples(format, bytes), (voiced) => this.onWindow(voiced));
  }

  /** One 10 ms window of input audio, on the audio clock. */
  private onWindow(voiced: boolean): void {
    this.inputMs += 10;
    const vad = this.session.audio.input.turn_detection;
    if (vad === null) return;
    if (this.phase === 'silence') {
      this.voicedRunMs = voiced ? this.voicedRunMs + 10 : 0;
      if (this.voicedRunMs >= this.ctx.options.detectionDelayMs) {
        const runStart = this.inputMs - this.voicedRunMs;
        this.voicedRunMs = 0;
        this.speechStarted('vad', Math.max(0, runStart - vad.prefix_padding_ms));
      }
      return;
    }
    this.silenceRunMs = voiced ? 0 : this.silenceRunMs + 10;
    if (this.silenceRunMs < vad.silence_duration_ms) return;
    this.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: this.inputMs, item_id: this.userItemId });
    this.commit();
    if (vad.create_response && this.response === undefined) this.respondNext();
  }

  private commit(): void {
    const itemId = this.userItemId === '' ? this.ctx.nextId('item') : this.userItemId;
    this.phase = 'silence';
    this.silenceRunMs = 0;
    this.voicedRunMs = 0;
    this.userItemId = '';
    this.send({ type: 'input_audio_buffer.committed', previous_item_id: this.lastItemId, item_id: itemId });
    const item = { id: itemId, object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_audio', transcript: null }] };
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item });
    this.send({ type: 'conversation.item.done', previous_item_id: this.lastItemId, item });
    this.lastItemId = itemId;
    if (this.session.audio.input.transcription) {
      this.send(inputTranscriptionCompleted(itemId, this.ctx.options.callerTranscript, Math.round(this.inputMs) / 1000));
    }
  }

  private onItemCreate(event: Record<string, unknown>, clientEventId: string | null): void {
    const checked = checkItemCreate(event);
    if ('error' in checked) return this.sendError(checked.error, clientEventId);
    const item: Record<string, unknown> & { id: string } = { object: 'realtime.item', status: 'completed', ...checked.item, id: this.ctx.nextId('item') };
    if (item.type === 'function_call_output') {
      this.ctx.log.add(this.ctx.log.functionOutputs, { at: FakeLog.now(), connection: this.id, callId: String(item.call_id), output: String(item.output) });
    }
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item });
    this.send({ type: 'conversation.item.done', previous_item_id: this.lastItemId, item });
    this.lastItemId = item.id;
  }

  private onCancel(responseId: string | undefined, clientEventId: string | null): void {
    const response = this.response;
    const matches = response !== undefined && (responseId === undefined || responseId === response.id);
    const active = matches && response.cancel === undefined;
    this.ctx.log.add(this.ctx.log.cancels, { at: FakeLog.now(), connection: this.id, responseId, active });
    if (!matches) {
      return this.sendError({ type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'Cancellation failed: no active response found', param: null }, clientEventId);
    }
    if (active) this.cancelResponse('client_cancelled');
  }

  private onTruncate(event: Record<string, unknown>, clientEventId: string | null): void {
    const itemId = typeof event.item_id === 'string' ? event.item_id : '';
    const contentIndex = typeof event.content_index === 'number' ? event.content_index : -1;
    const audioEndMs = typeof event.audio_end_ms === 'number' ? event.audio_end_ms : Number.NaN;
    const record = { at: FakeLog.now(), connection: this.id, itemId, contentIndex, audioEndMs };
    const length = this.items.get(itemId);
    let error: FakeApiError | undefined;
    if (!Number.isInteger(audioEndMs) || audioEndMs < 0) {
      error = { type: 'invalid_request_error', code: 'invalid_value', message: "Invalid 'audio_end_ms': must be a non-negative integer.", param: 'audio_end_ms' };
    } else if (length === undefined) {
      // (unconfirmed wording) The real text for an unknown item is not documented.
      error = { type: 'invalid_request_error', code: 'invalid_value', message: `Item with item_id '${itemId}' not found.`, param: 'item_id' };
    } else if (contentIndex !== 0) {
      error = { type: 'invalid_request_error', code: 'invalid_value', message: "Invalid 'content_index'.", param: 'content_index' };
    } else if (audioEndMs > length) {
      // Real wording, code and event_id (null) from a production trace (twilio-samples issue #45).
      error = { type: 'invalid_request_error', code: null, message: `Audio content of ${Math.round(length)}ms is already shorter than ${audioEndMs}ms`, param: null };
    }
    this.ctx.log.add(this.ctx.log.truncates, { ...record, ok: error === undefined });
    if (error !== undefined) return this.sendError(error, error.code === null ? null : clientEventId);
    this.items.set(itemId, audioEndMs);
    this.send({ type: 'conversation.item.truncated', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
  }

  private cancelResponse(reason: string): void {
    const response = this.response;
    if (response === undefined || response.cancel !== undefined) return;
    response.cancel = { left: this.ctx.options.cancelLagDeltas, reason };
    if (response.cancel.left === 0) this.finish(response, 'cancelled', reason);
  }

  private schedule(response: ActiveResponse): void {
    const { deltaMs, speedFactor } = this.ctx.options;
    const dueAt = response.startedAt + (response.deltas * deltaMs) / speedFactor;
    response.timer = setTimeout(() => this.tick(response), Math.max(0, dueAt - FakeLog.now()));
  }

  private tick(response: ActiveResponse): void {
    if (this.response !== response || !this.isOpen) return;
    if (response.cancel !== undefined && response.cancel.left-- <= 0) {
      this.finish(response, 'cancelled', response.cancel.reason);
      return;
    }
    const chunkMs = Math.min(this.ctx.options.deltaMs, response.totalMs - response.sentMs);
    const format = wireFormatOf(this.session.audio.output.format);
    const audio = Buffer.from(toneBytes(format, response.sentMs, chunkMs)).toString('base64');
    this.send({ type: 'response.output_audio.delta', ...this.partIds(response), delta: audio });
    response.sentMs += chunkMs;
    response.deltas++;
    this.items.set(response.itemId, response.sentMs);
    const wordsDue = Math.ceil((response.words.length * response.sentMs) / response.totalMs);
    while (response.wordsSent < wordsDue) {
      const word = response.words[response.wordsSent++] ?? '';
      this.send({ type: 'response.output_audio_transcript.delta', ...this.partIds(response), delta: response.wordsSent === 1 ? word : ` ${word}` });
    }
    if (this.ctx.takeDrop(response.deltas)) {
      this.drop();
      return;
    }
    if (response.sentMs < response.totalMs) this.schedule(response);
    else if (response.cancel === undefined) this.finish(response, 'completed', null);
    else this.finish(response, 'cancelled', response.cancel.reason);
  }

  private finish(response: ActiveResponse, status: 'completed' | 'cancelled', reason: string | null): void {
    clearTimeout(response.timer);
    this.response = undefined;
    const output: Record<string, unknown>[] = [];
    if (response.totalMs > 0) {
      const transcript = response.words.slice(0, response.wordsSent).join(' ');
      const ids = this.partIds(response);
      const item = this.assistantItem(response, status === 'completed' ? 'completed' : 'incomplete', transcript);
      this.send({ type: 'response.output_audio.done', ...ids });
      this.send({ type: 'response.output_audio_transcript.done', ...ids, transcript });
      this.send({ type: 'response.content_part.done', ...ids, part: { type: 'audio', transcript } });
      this.send({ type: 'response.output_item.done', response_id: response.id, output_index: 0, item });
      this.send({ type: 'conversation.item.done', previous_item_id: null, item });
      output.push(item);
    }
    // A cancelled response never gets to its function call.
    const call = response.functionCall;
    if (call !== undefined && status === 'completed') {
      for (const event of functionCallEvents(response.id, output.length, call, this.lastItemId)) this.send(event);
      this.lastItemId = call.itemId;
      output.push(functionCallItem(call, 'completed'));
      this.ctx.log.add(this.ctx.log.functionCalls, { at: FakeLog.now(), connection: this.id, responseId: response.id, callId: call.callId, name: call.name, arguments: call.arguments });
    }
    this.send({ type: 'response.done', response: this.responseObject(response, status, reason, output) });
    this.ctx.log.add(this.ctx.log.responses, {
      at: FakeLog.now(), connection: this.id, id: response.id, itemId: response.itemId, status, reason, audioMs: response.sentMs,
    });
  }

  private stopResponse(): void {
    if (this.response === undefined) return;
    clearTimeout(this.response.timer);
    this.response = undefined;
  }

  private interruptResponse(): boolean {
    const configured = this.ctx.options.interruptResponse;
    if (configured !== 'session') return configured;
    return this.session.audio.input.turn_detection?.interrupt_response ?? false;
  }

  private inputFormat(): FakeWireFormat {
    return wireFormatOf(this.session.audio.input.format);
  }

  private rememberItem(itemId: string, ms: number): void {
    this.items.set(itemId, ms);
    if (this.items.size > ITEM_MEMORY) this.items.delete(this.items.keys().next().value!);
  }

  private partIds(response: ActiveResponse): Record<string, unknown> {
    return { response_id: response.id, item_id: response.itemId, output_index: 0, content_index: 0 };
  }

  private assistantItem(response: ActiveResponse, status: string, transcript = ''): Record<string, unknown> {
    const content = status === 'in_progress' ? [] : [{ type: 'output_audio', transcript }];
    return { id: response.itemId, object: 'realtime.item', type: 'message', status, role: 'assistant', content };
  }

  private responseObject(response: ActiveResponse, status: string, reason: string | null, output: unknown[]): Record<string, unknown> {
    return {
      object: 'realtime.response', id: response.id, status,
      status_details: status === 'completed' || status === 'in_progress' ? null : { type: status, reason },
      output, conversation_id: 'conv_fake', output_modalities: ['audio'],
      audio: { output: { format: this.session.audio.output.format, voice: this.session.audio.output.voice } },
      // The API reports usage once a response is over (null in response.created).
      usage: status === 'in_progress' ? null : FAKE_RESPONSE_USAGE,
    };
  }
}

/**
 * The usage every finished fake response reports: fixed, known numbers in the GA shape of
 * test/fixtures/openai/server.response.done.json (`response.usage`).
 */
export const FAKE_RESPONSE_USAGE = {
  total_tokens: 168,
  input_tokens: 120,
  output_tokens: 48,
  input_token_details: { text_tokens: 100, audio_tokens: 20, image_tokens: 0, cached_tokens: 0 },
  output_token_details: { text_tokens: 12, audio_tokens: 36 },
} as const;

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
