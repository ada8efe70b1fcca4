/**
 * The OpenAI Realtime (GA) backend: one WebSocket to the model per call, caller audio in, model
 * audio out, barge-in as `response.cancel` + `conversation.item.truncate`.
 *
 * Shaped like the other socket-bridged backends: the pure codec (protocol.ts) turns frames into
 * typed events, this session owns the connection (shared/model-link.ts: connect deadline,
 * heartbeat, bounded caller-audio queue, reconnects) and decides what each event means through the
 * handler table in server-events.ts, which sees only the narrow context the session hands it.
 *
 * Answers to the caller's turns are created by the server VAD (`create_response`, as configured):
 * no extra round trip on a normal turn. A barge-in's truncate waits for the caller to confirm the
 * `clear` (session/truncation.ts), and the next answer must not start before it: the model would
 * answer from a conversation that still holds speech the caller did not hear. So at the barge-in
 * (speech start, long before the VAD can commit the interrupting turn) a `session.update` turns
 * `create_response` off; once the truncate is out another turns it back on, and a turn the server
 * committed meanwhile is answered with `response.create` (auto-create.ts tracks which mode each
 * commit ran under). The round trip is paid only around a barge-in.
 *
 * Realtime cannot be paused (the model streams faster than real time and the socket must keep
 * being read), so `pausable` is false and `audio()`'s promise is ignored; the session's queue is
 * where backpressure lives.
 */
import type { AudioFormat } from '../../audio/format.js';
import { encodeBase64 } from '../../audio/base64.js';
import { vwError, type VoicewireError } from '../../errors.js';
import { HEARD_PENDING, type HeardPoint, type ModelEvents, type ModelSession } from '../model.js';
import { FormatConverter } from '../shared/convert.js';
import { MalformedFrames } from '../shared/malformed.js';
import { isQuietMulaw } from '../shared/quiet-frame.js';
import { ModelLink, type LinkRequest, type LinkState, type ModelLinkHandlers } from '../shared/model-link.js';
import { audioFormatOfWire, resolveOptions, type OpenAIRealtimeOptions, type ResolvedOptions } from './options.js';
import {
  buildFunctionCallOutput, buildResponseCancel, buildResponseCreate, buildSessionUpdate, buildTruncate,
  buildTurnDetectionUpdate, serializeAppend, serializeClientEvent, type ClientEvent,
} from './protocol.js';
import { AutoCreateMode } from './auto-create.js';
import { AudioDeltaFastPath } from './delta-fast-path.js';
import { DeltaAudio } from './delta-audio.js';
import { ResponseTracker, type ResponseState } from './responses.js';
import { handleServerEvent, onAudioHandlerFailed, type Counters, type EventContext } from './server-events.js';

/**
 * - `idle`: constructed; `connect()` not called yet.
 * - `connecting`: first socket opening / waiting for `session.updated`.
 * - `open`: configured; audio flows.
 * - `reconnecting`: the socket dropped; waiting out the backoff or opening a new one.
 * - `closed`: `close()` was called or the connection was lost for good. Final.
 */
export type ConnectionState = LinkState;

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

export class OpenAIRealtimeSession implements ModelSession {
  readonly backend = 'openai-realtime' as const;
  readonly pausable = false;

  private readonly options: ResolvedOptions;
  private readonly responses = new ResponseTracker();
  private readonly counters: Counters = { outputMs: 0, droppedDeltas: 0, malformedEvents: 0, unknownEvents: 0 };
  private events: ModelEvents | undefined;
  private readonly link: ModelLink;
  private readonly inbound: FormatConverter;
  private readonly outbound: FormatConverter;
  private readonly wireFormat: AudioFormat;
  private readonly malformedFrames: MalformedFrames;
  private readonly context: EventContext;
  /** event_id of the session.update awaiting its session.updated (or its error). */
  private pendingUpdateId: string | undefined;
  private eventSeq = 0;
  /** A barge-in's truncate waits for `heard()`: no answer may be created before it. */
  private truncatePending = false;
  /** A turn committed while auto-create was off waits for its `response.create` (pending truncate or a response still ending). */
  private answerWanted = false;
  /** Whether the server creates the answer to a committed turn, across the barge-in's updates. */
  private readonly autoCreate: AutoCreateMode;

  constructor(options: OpenAIRealtimeOptions) {
    this.options = resolveOptions(options);
    this.autoCreate = new AutoCreateMode(this.options.turnDetection.create_response);
    this.wireFormat = audioFormatOfWire(this.options.wireFormat);
    this.inbound = new FormatConverter(this.options.callerFormat, this.wireFormat);
    this.outbound = new FormatConverter(this.wireFormat, this.options.callerFormat);
    this.malformedFrames = new MalformedFrames(this.backend, this.options.logger, () => this.events);
    this.context = new OpenAIRealtimeSession.ServerEventContext(this);
    this.link = new ModelLink(this.options, new OpenAIRealtimeSession.LinkHandlers(this));
  }

  get connectionState(): ConnectionState {
    return this.link.linkState;
  }

  get stats(): OpenAIRealtimeStats {
    const link = this.link.stats;
    return {
      state: link.state,
      responseState: this.responses.state,
      inputDroppedMs: link.inputDroppedMs,
      inputQueuedMs: link.inputQueuedMs,
      inputSentMs: link.inputSentMs,
      bufferedAmount: this.bufferedAmount(),
      ...this.counters,
      reconnects: link.reconnects,
    };
  }

  /** For the server's slow-consumer watchdog. */
  bufferedAmount(): number {
    return this.link.bufferedAmount;
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  /** Opens the socket and configures the session; resolves on `session.updated`. */
  async connect(): Promise<void> {
    if (this.link.linkState !== 'idle') throw vwError('VW_ERR_CLOSED', `connect() in state ${this.link.linkState}`);
    await this.link.connect();
  }

  appendAudio(bytes: Uint8Array, durationMs: number): void {
    if (this.link.linkState === 'closed') return;
    const wire = this.inbound.convert(bytes);
    // Until the server VAD hears speech, only quiet μ-law may wait in an input batch
    // (inputBatchMs): the onset of speech goes at once, so barge-in is not delayed (other wire
    // formats cannot be told quiet, so they go at once then). Once it hears speech, every frame
    // may wait (InputPump).
    const urgent = this.options.wireFormat !== 'pcmu' || !isQuietMulaw(wire);
    this.link.appendAudio(wire, durationMs, urgent);
  }

  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void {
    if (this.link.linkState === 'closed') return;
    const cancelId = this.responses.interrupt();
    this.outbound.reset();
    if (cancelId !== undefined) this.sendEvent(buildResponseCancel(cancelId, this.nextEventId()));
    else this.options.logger.debug({ responseState: this.responses.state }, 'interrupt: no active response, no cancel');
    if (heard === HEARD_PENDING) {
      this.truncatePending = true;
      // Before any commit of the interrupting speech: it goes out at speech start.
      if (this.autoCreate.needsHold()) this.sendTurnDetection(false);
      return;
    }
    this.sendTruncate(heard);
  }

  heard(heard: HeardPoint | undefined): void {
    if (this.link.linkState === 'closed') return;
    this.truncatePending = false;
    this.sendTruncate(heard);
    if (this.autoCreate.needsRelease()) this.sendTurnDetection(true);
    this.createWantedAnswer();
  }

  close(): void {
    this.link.close();
  }

  private sendTruncate(heard: HeardPoint | undefined): void {
    if (heard === undefined) return;
    const audioEndMs = Number.isFinite(heard.audioEndMs) ? heard.audioEndMs : 0;
    this.sendEvent(buildTruncate(heard.itemId, audioEndMs, this.nextEventId()));
  }

  /** `session.update` of turn detection as configured but for `create_response`. */
  private sendTurnDetection(createResponse: boolean): void {
    const eventId = this.nextEventId();
    const update = buildTurnDetectionUpdate({ ...this.options.turnDetection, create_response: createResponse }, eventId);
    if (this.sendEvent(update)) this.autoCreate.sent(eventId, createResponse);
  }

  /**
   * The VAD committed a turn. Under auto-create the server answers it; a turn committed while
   * auto-create was off for a barge-in is answered here, once the truncate is out.
   */
  private onCommitted(): void {
    if (!this.options.turnDetection.create_response) return; // answers are not automatic at all
    if (this.autoCreate.serverCreates) {
      this.responses.onCommitted(true);
      return;
    }
    this.answerWanted = true;
    // Seen as under way from now: a tool output must not create a second answer meanwhile.
    this.responses.onCommitted(true);
    this.createWantedAnswer();
  }

  /** Sends the wanted `response.create` unless a truncate is pending or a response has not ended yet. */
  private createWantedAnswer(): void {
    if (!this.answerWanted || this.truncatePending) return;
    const state = this.responses.state;
    if (state === 'active' || state === 'cancelling') return; // response.done calls again
    this.answerWanted = false;
    this.createResponse();
  }

  /**
   * Adds a function call's output; with `respond`, asks for the answer — but never while a
   * response is active or being created (the caller's turn already makes one, and a second
   * `response.create` would be refused with conversation_already_has_active_response).
   */
  toolResult(callId: string, output: string, respond: boolean): void {
    if (this.link.linkState === 'closed') return;
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
    if (this.link.linkState !== 'open' || this.responses.state !== 'idle') return;
    this.createResponse(`Greet the caller by saying exactly this, then wait for them: ${text}`);
  }

  // --- what the event handlers and the link may touch (classes: one object per call each, not a closure per entry) ---

  /** The context server-events.ts handles events with: nothing of the session here is public. */
  private static readonly ServerEventContext = class implements EventContext {
    readonly options: ResolvedOptions;
    readonly responses: ResponseTracker;
    readonly counters: Counters;
    readonly deltaFastPath = new AudioDeltaFastPath();
    readonly deltaAudio: DeltaAudio;
    /** Handed to `.catch()`: a function of its own. */
    readonly audioFailed = (err: unknown): void => onAudioHandlerFailed(this, err);

    constructor(private readonly session: OpenAIRealtimeSession) {
      this.options = session.options;
      this.responses = session.responses;
      this.counters = session.counters;
      this.deltaAudio = new DeltaAudio(session.outbound);
    }

    events(): ModelEvents | undefined {
      return this.session.events;
    }

    resetOutput(): void {
      this.session.outbound.reset();
    }

    committed(): void {
      this.session.onCommitted();
    }

    callerSpeech(speaking: boolean): void {
      this.session.link.setCallerSpeaking(speaking);
    }

    responseEnded(): void {
      this.session.createWantedAnswer();
    }

    sessionUpdated(): void {
      const session = this.session;
      if (session.pendingUpdateId === undefined) {
        session.autoCreate.updated();
        return;
      }
      session.pendingUpdateId = undefined;
      // A freshly configured session's VAD has heard nothing yet (also after a reconnect).
      session.link.setCallerSpeaking(false);
      session.link.handshakeDone();
    }

    malformed(error: VoicewireError): void {
      this.counters.malformedEvents++;
      this.session.malformedFrames.report(error);
    }

    eventError(eventId: string | undefined, error: VoicewireError): boolean {
      return this.session.onEventError(eventId, error);
    }
  };

  /** The model link's callbacks. */
  private static readonly LinkHandlers = class implements ModelLinkHandlers {
    constructor(private readonly session: OpenAIRealtimeSession) {}

    request(): LinkRequest {
      return { url: this.session.options.url, headers: this.session.options.headers };
    }

    opened(): void {
      this.session.sendSessionUpdate();
    }

    text(text: string): void {
      handleServerEvent(this.session.context, text);
    }

    binary(): void {
      handleServerEvent(this.session.context, undefined);
    }

    sendAudio(bytes: Uint8Array): void {
      this.session.link.sendText(serializeAppend(encodeBase64(bytes)));
    }

    interrupted(reason: string): void {
      this.session.onSocketInterrupted(reason);
    }

    restored(): void {
      this.session.options.logger.info({}, 'model session configured on the new socket');
    }

    lost(error: VoicewireError): void {
      this.session.events?.closed(error.message, error);
    }
  };

  /** An `error` answering our pending session.update fails the connect (or the reconnect). */
  private onEventError(eventId: string | undefined, error: VoicewireError): boolean {
    if (eventId !== undefined && this.autoCreate.rejected(eventId)) {
      // Still surfaced as an error; a turn committed under the old mode is still answered (onCommitted).
      this.options.logger.warn({ eventId, code: error.code }, 'turn_detection update refused');
      return false;
    }
    if (this.pendingUpdateId === undefined || eventId === undefined || eventId !== this.pendingUpdateId) return false;
    this.pendingUpdateId = undefined;
    this.link.handshakeFailed(error);
    return true;
  }

  // --- connection lifecycle (the link calls these) ---

  /** A socket opened: configure it; the link waits for session.updated under its connect deadline. */
  private sendSessionUpdate(): void {
    const eventId = this.nextEventId();
    this.pendingUpdateId = eventId;
    this.link.sendSetup(serializeClientEvent(buildSessionUpdate(this.sessionSettings(), eventId)));
  }

  private onSocketInterrupted(reason: string): void {
    this.pendingUpdateId = undefined;
    this.truncatePending = false;
    this.answerWanted = false;
    this.autoCreate.reset();
    const lost = this.responses.reset();
    this.outbound.reset();
    this.options.logger.warn({ reason }, 'model socket ended: a new one is configured');
    // The server session died with the socket: a response in flight will never finish.
    if (lost !== undefined) this.events?.responseDone(lost, 'failed');
  }

  /** Sends on a configured socket only: before session.updated the session has no context yet. */
  private sendEvent(event: ClientEvent): boolean {
    const sent = this.link.sendText(serializeClientEvent(event));
    if (!sent) this.options.logger.debug({ type: event.type, state: this.link.linkState }, 'model socket not open: event not sent');
    return sent;
  }

  private sessionSettings(): Parameters<typeof buildSessionUpdate>[0] {
    return {
      voice: this.options.voice,
      inputFormat: this.options.wireFormat,
      outputFormat: this.options.wireFormat,
      // As configured: create_response is turned off only around a barge-in (see the top of this file).
      turnDetection: { ...this.options.turnDetection },
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
}
