/**
 * The OpenAI Realtime API (GA) cut down for load: the event sequence and fields of
 * test/fakes/realtime-server.ts (session.created → session.update/updated; server VAD:
 * speech_started, speech_stopped after 500 ms of silence, committed, the user item; then a
 * response: created, output_item.added, item added, content_part.added, `output_audio.delta`s at
 * `speedFactor` × real time, and the done events), built for a thousand connections in one process:
 *
 * - `input_audio_buffer.append` is recognised by a prefix check on the received bytes and never
 *   decoded to a string nor JSON.parsed: the VAD looks at the first base64 characters of the audio
 *   (μ-law silence is 0xFF, i.e. "////"; the callers' tone is not) and the length gives the
 *   duration. Every other client event is decoded (UTF-8) and parsed.
 * - every delta is one pre-built string per response (only event_id changes), the audio encoded once,
 *   its frame written straight to the socket (ws-frames.ts: the bytes `ws` would send);
 * - ONE timer drives every answer.
 * No transcript deltas (the gateway does not need them). The truncate/cancel answers are the real ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { DirectTextWriter } from './ws-frames.js';

export interface LeanModelOptions {
  readonly apiKey: string;
  /** Length of every answer, ms of audio. */
  readonly answerMs: number;
  /** Faster than real time by this factor. */
  readonly speedFactor: number;
  /** Audio per delta, ms (the API sends ≈ 100 ms pieces). */
  readonly deltaMs?: number;
  /**
   * The first `leadMs` of every answer come `speedFactor` × faster than real time, the rest in real
   * time (a model that got ahead, then keeps pace). Default: the whole answer fast.
   */
  readonly leadMs?: number;
}

const SILENCE_MS_TO_STOP = 500;
const APPEND_PLAIN = Buffer.from('{"type":"input_audio_buffer.append","audio":"');
const APPEND_WITH_ID = Buffer.from('{"event_id":');
const APPEND_AFTER_ID = Buffer.from('","type":"input_audio_buffer.append","audio":"');
const QUOTE = 0x22;
const SLASH = 0x2f;

/** A tone that is not silence for any μ-law check, ms → base64 (the same bytes every delta). */
function toneB64(ms: number): string {
  const bytes = Buffer.alloc(ms * 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 0x10 + (i % 32);
  return bytes.toString('base64');
}

interface Answer {
  readonly id: string;
  readonly itemId: string;
  readonly deltaPrefix: string;
  readonly startedAt: number;
  deltas: number;
  sentMs: number;
}

let nextId = 0;
const id = (prefix: string): string => `${prefix}_${(nextId++).toString(36).padStart(8, '0')}`;

class LeanConnection {
  private phase: 'silence' | 'speech' = 'silence';
  private silenceMs = 0;
  private inputMs = 0;
  private userItemId = '';
  private lastItemId: string | null = null;
  answer: Answer | undefined;
  private events = 0;
  private readonly writer: DirectTextWriter;

  constructor(
    private readonly ws: WebSocket,
    private readonly model: LeanModel,
  ) {
    this.writer = new DirectTextWriter(ws, false);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', () => undefined);
    this.send({ type: 'session.created', session: { type: 'realtime', object: 'realtime.session', id: id('sess') } });
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(event: Record<string, unknown>): void {
    if (this.isOpen) this.ws.send(JSON.stringify({ event_id: this.eventId(), ...event }));
  }

  /** Sends the deltas due by `now`; finishes the answer after the last one. */
  tick(now: number): void {
    const answer = this.answer;
    if (answer === undefined || !this.isOpen) return;
    const { answerMs } = this.model.options;
    while (answer.sentMs < answerMs && answer.startedAt + this.model.dueAfter(answer.sentMs) <= now) {
      // ASCII: base-36 ids and base64. The live API's field order: type first, then event_id
      // (test/fixtures/openai/wire.response.output_audio.delta.jsonl, SOURCES.md).
      this.writer.send(`{"type":"response.output_audio.delta","event_id":"${this.eventId()}",${answer.deltaPrefix}`);
      answer.deltas++;
      answer.sentMs += this.model.options.deltaMs;
      this.model.audioSentMs += this.model.options.deltaMs;
    }
    if (answer.sentMs >= answerMs) this.finish('completed', null);
  }

  private eventId(): string {
    return `event_${this.events++}`;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
    const audioAt = appendAudioStart(bytes);
    if (audioAt >= 0) return this.onAppend(bytes, audioAt);
    const event = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    switch (event['type']) {
      case 'input_audio_buffer.append':
        // An append whose key order the prefix check does not know: the slow path.
        return this.onAppend(Buffer.from(JSON.stringify({ audio: event['audio'] })), '{"audio":"'.length);
      case 'session.update':
        return this.send({ type: 'session.updated', session: event['session'] });
      case 'response.cancel':
        if (this.answer !== undefined) this.finish('cancelled', 'client_cancelled');
        return;
      case 'conversation.item.truncate':
        return this.send({ type: 'conversation.item.truncated', item_id: event['item_id'], content_index: 0, audio_end_ms: event['audio_end_ms'] });
      default:
        return;
    }
  }

  /** The VAD on the first base64 characters, the duration from the length (μ-law: 8 bytes per ms). */
  private onAppend(bytes: Buffer, audioAt: number): void {
    const end = bytes.indexOf(QUOTE, audioAt);
    const b64Length = end - audioAt;
    const ms = (b64Length * 3) / 4 / 8;
    this.inputMs += ms;
    let voiced = false;
    for (let i = audioAt; i < audioAt + 8 && i < end; i++) if (bytes[i] !== SLASH) voiced = true;
    if (this.phase === 'silence') {
      if (!voiced) return;
      this.phase = 'speech';
      this.silenceMs = 0;
      this.userItemId = id('item');
      this.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.round(this.inputMs), item_id: this.userItemId });
      if (this.answer !== undefined) this.finish('cancelled', 'turn_detected');
      return;
    }
    this.silenceMs = voiced ? 0 : this.silenceMs + ms;
    if (this.silenceMs < SILENCE_MS_TO_STOP) return;
    this.phase = 'silence';
    const itemId = this.userItemId;
    this.send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(this.inputMs), item_id: itemId });
    this.send({ type: 'input_audio_buffer.committed', previous_item_id: this.lastItemId, item_id: itemId });
    const item = { id: itemId, object: 'realtime.item', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_audio', transcript: null }] };
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item });
    this.send({ type: 'conversation.item.done', previous_item_id: this.lastItemId, item });
    this.lastItemId = itemId;
    if (this.answer === undefined) this.respond();
  }

  private respond(): void {
    const answer: Answer = {
      id: id('resp'),
      itemId: id('item'),
      deltaPrefix: '',
      startedAt: performance.now(),
      deltas: 0,
      sentMs: 0,
    };
    const deltaPrefix = `"response_id":"${answer.id}","item_id":"${answer.itemId}","output_index":0,"content_index":0,"delta":"${this.model.deltaB64}"}`;
    this.answer = { ...answer, deltaPrefix };
    this.send({ type: 'response.created', response: this.responseObject(answer.id, 'in_progress', null, []) });
    const item = { id: answer.itemId, object: 'realtime.item', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    this.send({ type: 'response.output_item.added', response_id: answer.id, output_index: 0, item });
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item });
    this.send({ type: 'response.content_part.added', ...this.partIds(answer), part: { type: 'audio', transcript: '' } });
    this.lastItemId = answer.itemId;
  }

  private finish(status: 'completed' | 'cancelled', reason: string | null): void {
    const answer = this.answer;
    if (answer === undefined) return;
    this.answer = undefined;
    const ids = this.partIds(answer);
    const item = { id: answer.itemId, object: 'realtime.item', type: 'message', status: status === 'completed' ? 'completed' : 'incomplete', role: 'assistant', content: [{ type: 'output_audio', transcript: '' }] };
    this.send({ type: 'response.output_audio.done', ...ids });
    this.send({ type: 'response.content_part.done', ...ids, part: { type: 'audio', transcript: '' } });
    this.send({ type: 'response.output_item.done', response_id: answer.id, output_index: 0, item });
    this.send({ type: 'response.done', response: this.responseObject(answer.id, status, reason, [item]) });
  }

  private partIds(answer: Answer): Record<string, unknown> {
    return { response_id: answer.id, item_id: answer.itemId, output_index: 0, content_index: 0 };
  }

  private responseObject(responseId: string, status: string, reason: string | null, output: unknown[]): Record<string, unknown> {
    return {
      object: 'realtime.response', id: responseId, status,
      status_details: status === 'completed' || status === 'in_progress' ? null : { type: status, reason },
      output, conversation_id: 'conv_lean', output_modalities: ['audio'], usage: null,
    };
  }
}

/** True when `bytes` begins with `prefix`. */
function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/**
 * Where the base64 audio of an `input_audio_buffer.append` starts in the message `bytes`, or -1 when
 * they are not one of the append shapes the gateway and the naive forwarder send (then the message
 * is parsed in full).
 */
export function appendAudioStart(bytes: Buffer): number {
  if (startsWith(bytes, APPEND_PLAIN)) return APPEND_PLAIN.length;
  if (!startsWith(bytes, APPEND_WITH_ID)) return -1;
  // The event id comes first and is short: the type must follow within the first 80 bytes.
  const at = bytes.subarray(0, 80 + APPEND_AFTER_ID.length).indexOf(APPEND_AFTER_ID, APPEND_WITH_ID.length);
  return at > 0 && at < 80 ? at + APPEND_AFTER_ID.length : -1;
}

/** The lean model server on 127.0.0.1:0. */
export class LeanModel {
  readonly options: Required<LeanModelOptions>;
  readonly deltaB64: string;
  readonly connections = new Set<LeanConnection>();
  /** Audio sent in deltas so far, all connections, ms. */
  audioSentMs = 0;
  private readonly timer: NodeJS.Timeout;
  private waiter: { readonly count: number; readonly resolve: () => void } | undefined;

  private constructor(
    options: LeanModelOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
  ) {
    this.options = { ...options, deltaMs: options.deltaMs ?? 100, leadMs: options.leadMs ?? options.answerMs };
    this.deltaB64 = toneB64(this.options.deltaMs);
    wss.on('connection', (ws) => {
      const connection = new LeanConnection(ws, this);
      this.connections.add(connection);
      if (this.waiter !== undefined && this.connections.size >= this.waiter.count) this.waiter.resolve();
      ws.on('close', () => this.connections.delete(connection));
    });
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const connection of this.connections) connection.tick(now);
    }, 5);
  }

  static async start(options: LeanModelOptions): Promise<LeanModel> {
    const http = createServer();
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
    });
    http.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new LeanModel(options, http, wss);
  }

  /** When the delta that starts at `audioMs` into an answer is due, ms after the answer started. */
  dueAfter(audioMs: number): number {
    const { leadMs, speedFactor } = this.options;
    return audioMs <= leadMs ? audioMs / speedFactor : leadMs / speedFactor + (audioMs - leadMs);
  }

  /** Resolves once `count` sessions are open; rejects after `timeoutMs`. */
  async waitForConnections(count: number, timeoutMs: number): Promise<void> {
    if (this.connections.size >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lean model: ${this.connections.size} of ${count} sessions after ${timeoutMs} ms`)), timeoutMs);
      this.waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        },
      };
    });
  }

  url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/v1/realtime?model=gpt-realtime`;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
