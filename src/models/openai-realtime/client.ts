/**
 * The OpenAI Realtime (GA) backend: one WebSocket to the model per call, caller audio in, model
 * audio out, barge-in as `response.cancel` + `conversation.item.truncate`.
 *
 * Realtime cannot be paused (the model streams faster than real time and the socket must keep
 * being read), so `pausable` is false and `audio()`'s promise is ignored; the session's queue is
 * where backpressure lives. This class owns the connection lifecycle and maps wire events to
 * `ModelEvents`; the codec (protocol.ts), response bookkeeping (responses.ts), input bounding
 * (shared/input-pump.ts), conversion (shared/convert.ts) and the socket itself (socket.ts) live beside it.
 */
import type { AudioFormat } from '../../audio/format.js';
import { base64DecodedLength, decodeBase64Into, encodeBase64 } from '../../audio/base64.js';
import { isVoicewireError, vwError, type VoicewireError } from '../../errors.js';
import type { ModelEvents, ModelSession } from '../model.js';
import { atCallStart } from '../shared/connect-error.js';
import { MalformedFrames } from '../shared/malformed.js';
import { FormatConverter } from '../shared/convert.js';
import { InputPump } from '../shared/input-pump.js';
import { audioFormatOfWire, resolveOptions, type OpenAIRealtimeOptions, type ResolvedOptions } from './options.js';
import {
  buildAppend, buildFunctionCallOutput, buildResponseCancel, buildResponseCreate, buildSessionUpdate, buildTruncate,
  serializeClientEvent, type ClientEvent,
} from './protocol.js';
import { ResponseTracker, type ResponseState } from './responses.js';
import { handleServerEvent } from './server-events.js';
import { ModelSocket } from './socket.js';
import { raceSignal, sleep } from './waits.js';

/**
 * - `idle`: constructed; `connect()` not called yet.
 * - `connecting`: first socket opening / waiting for `session.updated`.
 * - `open`: configured; audio flows.
 * - `reconnecting`: the socket dropped; waiting out the backoff or opening a new one.
 * - `closed`: `close()` was called or the connection was lost for good. Final.
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

const ALLOWED: Record<ConnectionState, readonly ConnectionState[]> = {
  idle: ['connecting', 'closed'],
  connecting: ['open', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

export interface OpenAIRealtimeStats {
  readonly state: ConnectionState;
  readonly responseState: ResponseState;
  /** Caller audio dropped (oldest first) because the model socket could not take it. */
  readonly inputDroppedMs: number;
  /** Caller audio waiting for the model socket now (≤ inputQueueMs; AudioQueue allows +1 ms of rounding). */
  readonly inputQueuedMs: number;
  readonly inputSentMs: number;
  /** Bytes waiting in the model socket's user-space send buffer. */
  readonly bufferedAmount: number;
  /** Model audio delivered to the session, in ms of caller-format audio. */
  readonly outputMs: number;
  /** Deltas dropped: of interrupted responses, or of no active response. */
  readonly droppedDeltas: number;
  /** Frames from the model that were not valid JSON events (or were binary). */
  readonly malformedEvents: number;
  readonly unknownEvents: number;
  readonly reconnects: number;
}

/** @internal mutable counters shared with server-events.ts. */
export interface Counters {
  outputMs: number;
  droppedDeltas: number;
  malformedEvents: number;
  unknownEvents: number;
  reconnects: number;
}

/** @internal what server-events.ts needs from the client (kept narrow on purpose). */
export interface EventContext {
  readonly options: ResolvedOptions;
  readonly responses: ResponseTracker;
  readonly counters: Counters;
  readonly events: ModelEvents | undefined;
  /** Decodes a base64 delta from the wire format into a fresh caller-format buffer. */
  decodeDelta(base64: string): Uint8Array | undefined;
  resetOutput(): void;
  sessionUpdated(): void;
  /** A frame that is not a valid event: counted, raised as a coded `ModelEvents.error`, logged thinly. */
  malformed(error: VoicewireError): void;
  eventError(eventId: string | undefined, error: VoicewireError): boolean;
}

interface PendingConfig {
  readonly eventId: string;
  resolve(): void;
  reject(error: VoicewireError): void;
}

export class OpenAIRealtimeSession implements ModelSession, EventContext {
  readonly backend = 'openai-realtime' as const;
  readonly pausable = false;
  readonly options: ResolvedOptions;
  readonly responses = new ResponseTracker();
  readonly counters: Counters = { outputMs: 0, droppedDeltas: 0, malformedEvents: 0, unknownEvents: 0, reconnects: 0 };
  events: ModelEvents | undefined;

  private state: ConnectionState = 'idle';
  private socket: ModelSocket | undefined;
  private readonly pump: InputPump;
  private readonly inbound: FormatConverter;
  private readonly outbound: FormatConverter;
  private readonly wireFormat: AudioFormat;
  private readonly lifetime = new AbortController();
  private pending: PendingConfig | undefined;
  private eventSeq = 0;
  private deltaScratch = new Uint8Array(0);
  private readonly malformedFrames: MalformedFrames;

  constructor(options: OpenAIRealtimeOptions) {
    this.options = resolveOptions(options);
    this.malformedFrames = new MalformedFrames(this.backend, this.options.logger, () => this.events);
    this.wireFormat = audioFormatOfWire(this.options.wireFormat);
    this.inbound = new FormatConverter(this.options.callerFormat, this.wireFormat);
    this.outbound = new FormatConverter(this.wireFormat, this.options.callerFormat);
    this.pump = new InputPump({
      highWaterMarkMs: this.options.inputQueueMs,
      writable: () => this.writable(),
      send: (bytes) => this.sendEvent(buildAppend(encodeBase64(bytes))),
      logger: this.options.logger,
    });
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get stats(): OpenAIRealtimeStats {
    const input = this.pump.stats;
    return {
      state: this.state,
      responseState: this.responses.state,
      inputDroppedMs: input.droppedMs,
      inputQueuedMs: input.queuedMs,
      inputSentMs: input.sentMs,
      bufferedAmount: this.bufferedAmount(),
      ...this.counters,
    };
  }

  /** For the server's slow-consumer watchdog. */
  bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  /** Opens the socket and configures the session; resolves on `session.updated`. */
  async connect(): Promise<void> {
    if (this.state !== 'idle') throw vwError('VW_ERR_CLOSED', `connect() in state ${this.state}`);
    this.move('connecting');
    try {
      await this.establish();
    } catch (err) {
      if (this.connectionState !== 'closed') this.shutdown();
      throw atCallStart(err);
    }
    this.move('open');
    this.pump.flush();
  }

  appendAudio(bytes: Uint8Array, durationMs: number): void {
    if (this.state === 'closed') return;
    this.pump.push(this.inbound.convert(bytes), durationMs);
  }

  interrupt(heard: { readonly itemId: string; readonly audioEndMs: number } | undefined): void {
    if (this.state === 'closed') return;
    const cancelId = this.responses.interrupt();
    this.outbound.reset();
    if (cancelId !== undefined) this.sendEvent(buildResponseCancel(cancelId, this.nextEventId()));
    else this.options.logger.debug({ responseState: this.responses.state }, 'interrupt: no active response, no cancel');
    if (heard === undefined) return;
    const audioEndMs = Number.isFinite(heard.audioEndMs) ? heard.audioEndMs : 0;
    this.sendEvent(buildTruncate(heard.itemId, audioEndMs, this.nextEventId()));
  }

  close(): void {
    if (this.state === 'closed') return;
    this.shutdown();
  }

  /**
   * Adds a function call's output; with `respond`, asks for the answer — but never while a
   * response is active or being created (the caller's turn already makes one, and a second
   * `response.create` would be refused with conversation_already_has_active_response).
   */
  toolResult(callId: string, output: string, respond: boolean): void {
    if (this.state === 'closed') return;
    this.sendEvent(buildFunctionCallOutput(callId, output, this.nextEventId()));
    if (!respond) return;
    if (this.responses.state !== 'idle') {
      this.options.logger.debug({ responseState: this.responses.state }, 'tool output added; a response is already under way');
      return;
    }
    this.createResponse();
  }

  /** The opening line: one response whose instructions are to say `text`. */
  greet(text: string): void {
    if (this.state !== 'open' || this.responses.state !== 'idle') return;
    this.createResponse(`Greet the caller by saying exactly this, then wait for them: ${text}`);
  }

  // --- EventContext (used by server-events.ts) ---

  decodeDelta(base64: string): Uint8Array | undefined {
    const length = base64DecodedLength(base64);
    if (length < 0) return undefined;
    if (this.outbound.passthrough) {
      const out = new Uint8Array(length);
      return decodeBase64Into(base64, out) === length ? out : undefined;
    }
    if (this.deltaScratch.length < length) this.deltaScratch = new Uint8Array(length);
    const written = decodeBase64Into(base64, this.deltaScratch);
    if (written < 0) return undefined;
    // The converter's result is a reused view; the session keeps audio, so copy it out.
    return this.outbound.convert(this.deltaScratch.subarray(0, written)).slice();
  }

  resetOutput(): void {
    this.outbound.reset();
  }

  malformed(error: VoicewireError): void {
    this.counters.malformedEvents++;
    this.malformedFrames.report(error);
  }

  sessionUpdated(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve();
  }

  /** Routes an `error` event: true when it answered our pending session.update (connect fails). */
  eventError(eventId: string | undefined, error: VoicewireError): boolean {
    const pending = this.pending;
    if (pending === undefined || eventId === undefined || eventId !== pending.eventId) return false;
    this.pending = undefined;
    pending.reject(error);
    return true;
  }

  // --- connection lifecycle ---

  /** Opens one socket, sends session.update and waits for session.updated, all under one deadline. */
  private async establish(): Promise<void> {
    const deadline = AbortSignal.timeout(this.options.connectTimeoutMs);
    const signal = AbortSignal.any([deadline, this.lifetime.signal]);
    const socket = await ModelSocket.open(
      {
        url: this.options.url,
        headers: this.options.headers,
        WebSocketImpl: this.options.WebSocketImpl,
        maxPayload: this.options.maxPayload,
        openTimeoutMs: this.options.connectTimeoutMs,
        heartbeatMs: this.options.heartbeatMs,
        missedPongsLimit: this.options.missedPongsLimit,
        logger: this.options.logger,
      },
      {
        open: (opened) => this.onSocketOpen(opened),
        message: (from, text) => this.onSocketMessage(from, text),
        drop: (from, reason) => this.onSocketDrop(from, reason),
      },
      signal,
    );
    if (this.socket !== socket) throw vwError('VW_ERR_MODEL_UNAVAILABLE', 'socket closed while opening');
    const eventId = this.nextEventId();
    const configured = new Promise<void>((resolve, reject) => {
      this.pending = { eventId, resolve, reject };
    });
    socket.send(serializeClientEvent(buildSessionUpdate(this.sessionSettings(), eventId)));
    try {
      await raceSignal(configured, signal, () =>
        deadline.aborted
          ? vwError('VW_ERR_MODEL_UNAVAILABLE', `no session.updated within ${this.options.connectTimeoutMs} ms`)
          : vwError('VW_ERR_CLOSED', 'connect aborted'),
      );
    } catch (err) {
      this.pending = undefined;
      if (this.socket === socket) this.socket = undefined;
      socket.close(1000, 'session not configured');
      throw err;
    }
  }

  /** Called before any frame of `socket` is delivered (frames can share the upgrade's read). */
  private onSocketOpen(socket: ModelSocket): void {
    this.socket = socket;
  }

  private onSocketMessage(socket: ModelSocket, text: string | undefined): void {
    if (socket !== this.socket) return;
    handleServerEvent(this, text);
  }

  private onSocketDrop(socket: ModelSocket, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.pending?.reject(vwError('VW_ERR_MODEL_UNAVAILABLE', reason));
    this.pending = undefined;
    if (this.state !== 'open') return;
    this.options.logger.warn({ reason }, 'model socket dropped: reconnecting');
    this.move('reconnecting');
    const lost = this.responses.reset();
    this.outbound.reset();
    // The server session died with the socket: a response in flight will never finish.
    if (lost !== undefined) this.events?.responseDone(lost, 'failed');
    void this.reconnect(reason);
  }

  private async reconnect(firstReason: string): Promise<void> {
    let lastError: VoicewireError = vwError('VW_ERR_MODEL_UNAVAILABLE', firstReason);
    for (let attempt = 1; attempt <= this.options.reconnectAttempts; attempt++) {
      const waited = await sleep(this.options.reconnectBackoffMs, this.lifetime.signal);
      if (!waited || this.state !== 'reconnecting') return;
      try {
        await this.establish();
        this.counters.reconnects++;
        this.move('open');
        this.options.logger.info({ attempt }, 'model socket reconnected');
        this.pump.flush();
        return;
      } catch (err) {
        if (this.state !== 'reconnecting') return;
        // A config rejection (VW_ERR_MODEL_EVENT) on reconnect also means the model is unusable.
        lastError = isVoicewireError(err, 'VW_ERR_MODEL_UNAVAILABLE')
          ? err
          : vwError('VW_ERR_MODEL_UNAVAILABLE', err instanceof Error ? err.message : String(err));
        this.options.logger.warn({ attempt, err: lastError.message }, 'model reconnect failed');
      }
    }
    if (this.state !== 'reconnecting') return;
    this.shutdown();
    this.events?.closed(lastError.message, lastError);
  }

  private shutdown(): void {
    this.move('closed');
    this.lifetime.abort();
    this.pump.close();
    this.pending?.reject(vwError('VW_ERR_CLOSED', 'session closed'));
    this.pending = undefined;
    this.socket?.close(1000, 'session closed');
    this.socket = undefined;
  }

  private writable(): boolean {
    const socket = this.socket;
    return this.state === 'open' && socket !== undefined && socket.isOpen && socket.bufferedAmount <= this.options.maxBufferedBytes;
  }

  /** Sends on a configured socket only: before session.updated the session has no context yet. */
  private sendEvent(event: ClientEvent): boolean {
    const sent = this.state === 'open' && (this.socket?.send(serializeClientEvent(event)) ?? false);
    if (!sent && event.type !== 'input_audio_buffer.append') {
      this.options.logger.debug({ type: event.type, state: this.state }, 'model socket not open: event not sent');
    }
    return sent;
  }

  private sessionSettings(): Parameters<typeof buildSessionUpdate>[0] {
    return {
      voice: this.options.voice,
      inputFormat: this.options.wireFormat,
      outputFormat: this.options.wireFormat,
      turnDetection: this.options.turnDetection,
      ...(this.options.instructions === undefined ? {} : { instructions: this.options.instructions }),
      ...(this.options.tools.length === 0 ? {} : { tools: this.options.tools }),
      ...(this.options.transcribeModel === undefined ? {} : { transcribeModel: this.options.transcribeModel }),
    };
  }

  private createResponse(instructions?: string): void {
    if (this.sendEvent(buildResponseCreate(this.nextEventId(), instructions))) this.responses.onCommitted(true);
  }

  private nextEventId(): string {
    this.eventSeq++;
    return `vw_${this.eventSeq}`;
  }

  private move(next: ConnectionState): void {
    if (!ALLOWED[this.state].includes(next)) throw new Error(`OpenAIRealtimeSession: ${this.state} → ${next} is not allowed`);
    this.state = next;
  }
}
