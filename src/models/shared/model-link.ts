/**
 * The connection lifecycle every socket-bridged backend shares: open with a deadline and wait for
 * the provider's handshake answer, keep caller audio in a bounded queue while the socket cannot
 * take it, send the provider's keep-alive, and after an unexpected drop try `reconnectAttempts`
 * times with a backoff before declaring the model lost. Planned switches (Gemini's `goAway`) use
 * the same path without the backoff.
 *
 * The link knows nothing of any protocol: its owner (the backend session) builds the request and
 * the setup, reads the frames through its codec and tells the link when the handshake is done.
 */
import { isVoicewireError, vwError, type VoicewireError } from '../../errors.js';
import { setTimeout as delay } from 'node:timers/promises';
import { atCallStart } from './connect-error.js';
import { InputPump, type InputPumpOptions } from './input-pump.js';
import { LinkSocket, type LinkSocketHandlers } from './link-socket.js';
import { KeepAliveTimer, type KeepAlive } from './keep-alive.js';
import { raceSignal } from './waits.js';
import type { LoggerLike, ResolvedLinkOptions } from './options.js';

/**
 * - `idle`: constructed. `connecting`: first socket opening / handshake. `open`: audio flows.
 * - `reconnecting`: after a drop or during a planned switch. `closed`: final.
 */
export type LinkState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

const ALLOWED: Record<LinkState, readonly LinkState[]> = {
  idle: ['connecting', 'closed'],
  connecting: ['open', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

export interface LinkRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ModelLinkHandlers {
  /** URL and headers of the next connection (a resumption handle may change them). */
  request(): LinkRequest;
  /** A socket opened: send the provider's setup; then call `handshakeDone()` or `handshakeFailed()`. */
  opened(): void;
  text(text: string): void;
  binary(bytes: Uint8Array): void;
  /** Sends one chunk of caller audio in the wire format (text or binary, the protocol's choice). */
  sendAudio(bytes: Uint8Array): void;
  /** The open socket ended (drop or planned switch); a new one is on its way. */
  interrupted(reason: string, planned: boolean): void;
  /** A new socket finished its handshake after `interrupted`. */
  restored(planned: boolean): void;
  /** The model is gone for good (the reconnect attempts failed). Not called after `close()`. */
  lost(error: VoicewireError): void;
}

export type { KeepAlive } from './keep-alive.js';

export interface LinkStats {
  readonly state: LinkState;
  readonly reconnects: number;
  readonly plannedSwitches: number;
  readonly inputDroppedMs: number;
  readonly inputQueuedMs: number;
  readonly inputSentMs: number;
  readonly keepAlivesSent: number;
}

interface PendingHandshake {
  readonly socket: LinkSocket;
  resolve(): void;
  reject(error: VoicewireError): void;
}

export class ModelLink {
  private state: LinkState = 'idle';
  private socket: LinkSocket | undefined;
  private pending: PendingHandshake | undefined;
  /** The handshake of the socket that just opened, for `establish` to await (set synchronously by `SocketEvents.open`). */
  private opening: Promise<void> | undefined;
  private readonly pump: InputPump;
  /**
   * Aborted by `close()`: ends a connect or reconnect in progress. Made for those waits only and
   * dropped once open, so a call that is up holds no AbortSignal (each is an EventTarget of ≈ 1 KiB).
   */
  private waits: AbortController | undefined;
  /** The handlers of every socket this link opens (one object, not closures over a connect's locals). */
  private readonly socketEvents: LinkSocketHandlers;
  private readonly keepAlive: KeepAliveTimer | undefined;
  private reconnects = 0;
  private plannedSwitches = 0;

  constructor(
    private readonly options: ResolvedLinkOptions,
    private readonly handlers: ModelLinkHandlers,
    keepAlive?: KeepAlive,
  ) {
    this.keepAlive = keepAlive && new KeepAliveTimer(keepAlive, (text) => this.sendText(text));
    this.pump = new InputPump(new ModelLink.PumpPort(this));
    this.socketEvents = new ModelLink.SocketEvents(this);
  }

  get linkState(): LinkState {
    return this.state;
  }

  get stats(): LinkStats {
    const input = this.pump.stats;
    return {
      state: this.state, reconnects: this.reconnects, plannedSwitches: this.plannedSwitches,
      inputDroppedMs: input.droppedMs, inputQueuedMs: input.queuedMs, inputSentMs: input.sentMs,
      keepAlivesSent: this.keepAlive?.sent ?? 0,
    };
  }

  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  /** Opens the first socket; resolves when the owner reports the handshake done. A socket that
   * cannot be opened or never answers rejects with VW_ERR_MODEL_CONNECT (4012). */
  async connect(): Promise<void> {
    this.move('connecting');
    try {
      await this.establish();
    } catch (err) {
      if (this.state !== 'closed') this.shutdown();
      throw atCallStart(err);
    }
    this.waits = undefined;
    this.move('open');
    this.keepAlive?.start();
    this.pump.flush();
  }

  /** The provider answered the setup (setupComplete, SettingsApplied, initiation metadata). */
  handshakeDone(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve();
  }

  /** The provider refused the setup; connect (or the reconnect) fails with `error`. */
  handshakeFailed(error: VoicewireError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  /** True while a handshake is awaited (frames before it belong to the setup). */
  get handshaking(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Caller audio in the wire format: sent now, or queued (bounded, oldest dropped). With
   * `inputBatchMs`, gathered into larger messages unless `urgent` (the onset of speech) while the
   * model is not known to hear speech (InputPump).
   */
  appendAudio(bytes: Uint8Array, durationMs: number, urgent = false): void {
    if (this.state === 'closed') return;
    this.pump.push(bytes, durationMs, urgent);
  }

  /**
   * The model's turn detector started or stopped hearing the caller's speech (the backend reports
   * it from its provider's events): while it hears none, quiet audio goes in `inputIdleBatchMs`
   * messages (InputPump).
   */
  setCallerSpeaking(speaking: boolean): void {
    this.pump.setSpeaking(speaking);
  }

  /** Sends a control frame on the open, configured socket; false when not sent. */
  sendText(text: string): boolean {
    return this.state === 'open' && this.pending === undefined && (this.socket?.sendText(text) ?? false);
  }

  sendBinary(bytes: Uint8Array): boolean {
    return this.state === 'open' && this.pending === undefined && (this.socket?.sendBinary(bytes) ?? false);
  }

  /** Sends during the handshake (the setup message itself). */
  sendSetup(text: string): boolean {
    return this.socket?.sendText(text) ?? false;
  }

  /**
   * A planned switch to a new socket (the provider announced the end of this connection): the
   * old socket is closed and a new one opened at once; caller audio waits in the queue meanwhile.
   */
  switchNow(reason: string): void {
    if (this.state !== 'open') return;
    const old = this.socket;
    this.socket = undefined;
    old?.close(1000, 'switching');
    this.plannedSwitches++;
    this.beginReconnect(reason, true);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.shutdown();
  }

  // --- lifecycle ---

  private async establish(): Promise<void> {
    const deadline = AbortSignal.timeout(this.options.connectTimeoutMs);
    const signal = AbortSignal.any([deadline, this.waitSignal()]);
    const request = this.handlers.request();
    const socket = await LinkSocket.open(
      {
        url: request.url, headers: request.headers, WebSocketImpl: this.options.WebSocketImpl,
        maxPayload: this.options.maxPayload, openTimeoutMs: this.options.connectTimeoutMs,
        heartbeatMs: this.options.heartbeatMs, missedPongsLimit: this.options.missedPongsLimit, logger: this.options.logger,
      },
      this.socketEvents,
      signal,
    );
    const handshake = this.opening;
    this.opening = undefined;
    try {
      if (handshake === undefined) throw vwError('VW_ERR_MODEL_UNAVAILABLE', 'socket closed while opening');
      await raceSignal(handshake, signal, () =>
        deadline.aborted
          ? vwError('VW_ERR_MODEL_UNAVAILABLE', `no handshake answer within ${this.options.connectTimeoutMs} ms`)
          : vwError('VW_ERR_CLOSED', 'connect aborted'),
      );
    } catch (err) {
      this.pending = undefined;
      if (this.socket === socket) this.socket = undefined;
      socket.close(1000, 'not configured');
      throw err;
    }
  }

  /** The signal `close()` aborts, made on first use by a connect or reconnect. */
  private waitSignal(): AbortSignal {
    this.waits ??= new AbortController();
    return this.waits.signal;
  }

  private onDrop(socket: LinkSocket, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (this.pending?.socket === socket) this.handshakeFailed(vwError('VW_ERR_MODEL_UNAVAILABLE', reason));
    if (this.state !== 'open') return;
    this.options.logger.warn({ reason }, 'model socket dropped: reconnecting');
    this.beginReconnect(reason, false);
  }

  private beginReconnect(reason: string, planned: boolean): void {
    this.move('reconnecting');
    this.keepAlive?.stop();
    this.handlers.interrupted(reason, planned);
    void this.reconnect(reason, planned);
  }

  private async reconnect(firstReason: string, planned: boolean): Promise<void> {
    let lastError = vwError('VW_ERR_MODEL_UNAVAILABLE', firstReason);
    // A planned switch gets one immediate attempt on top of the configured ones.
    const attempts = this.options.reconnectAttempts + (planned ? 1 : 0);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const wait = planned && attempt === 1 ? 0 : this.options.reconnectBackoffMs;
      try {
        if (wait > 0) await delay(wait, undefined, { signal: this.waitSignal() });
      } catch {
        return; // closed while waiting
      }
      if (this.state !== 'reconnecting') return;
      try {
        await this.establish();
        if (!planned) this.reconnects++;
        this.waits = undefined;
        this.move('open');
        this.keepAlive?.start();
        this.options.logger.info({ attempt, planned }, 'model socket reconnected');
        this.handlers.restored(planned);
        this.pump.flush();
        return;
      } catch (err) {
        if (this.state !== 'reconnecting') return;
        lastError = isVoicewireError(err, 'VW_ERR_MODEL_UNAVAILABLE')
          ? err
          : vwError('VW_ERR_MODEL_UNAVAILABLE', err instanceof Error ? err.message : String(err));
        this.options.logger.warn({ attempt, err: lastError.message }, 'model reconnect failed');
      }
    }
    if (this.state !== 'reconnecting') return;
    this.shutdown();
    this.handlers.lost(lastError);
  }

  private shutdown(): void {
    this.move('closed');
    this.waits?.abort();
    this.waits = undefined;
    this.keepAlive?.stop();
    this.pump.close();
    this.handshakeFailed(vwError('VW_ERR_CLOSED', 'session closed'));
    this.socket?.close(1000, 'session closed');
    this.socket = undefined;
  }

  private writable(): boolean {
    const socket = this.socket;
    return this.state === 'open' && this.pending === undefined && socket !== undefined && socket.isOpen &&
      socket.bufferedAmount <= this.options.maxBufferedBytes;
  }

  private move(next: LinkState): void {
    if (!ALLOWED[this.state].includes(next)) throw new Error(`ModelLink: ${this.state} → ${next} is not allowed`);
    this.state = next;
  }

  /** What the input pump needs from the link: one small object, not an options object and two closures. */
  private static readonly PumpPort = class implements InputPumpOptions {
    readonly highWaterMarkMs: number;
    readonly batchMs: number;
    readonly idleBatchMs: number;
    readonly logger: LoggerLike;

    constructor(private readonly link: ModelLink) {
      this.highWaterMarkMs = link.options.inputQueueMs;
      this.batchMs = link.options.inputBatchMs;
      this.idleBatchMs = link.options.inputIdleBatchMs;
      this.logger = link.options.logger;
    }

    writable(): boolean {
      return this.link.writable();
    }

    send(bytes: Uint8Array): void {
      this.link.handlers.sendAudio(bytes);
    }
  };

  /**
   * The sockets' events, to this link. A class rather than closures made in `establish`: those
   * kept that connect's locals (its deadline signal and timer, the request) for the call's life.
   */
  private static readonly SocketEvents = class implements LinkSocketHandlers {
    constructor(private readonly link: ModelLink) {}

    open(opened: LinkSocket): void {
      const link = this.link;
      // Frames can share the upgrade's read: the handshake wait exists before any is delivered.
      link.socket = opened;
      const handshake = new Promise<void>((resolve, reject) => {
        link.pending = { socket: opened, resolve, reject };
      });
      // A refusal can arrive before establish() awaits it: mark it handled here.
      handshake.catch(() => undefined);
      link.opening = handshake;
      link.handlers.opened();
    }

    text(from: LinkSocket, text: string): void {
      if (from === this.link.socket) this.link.handlers.text(text);
    }

    binary(from: LinkSocket, bytes: Uint8Array): void {
      if (from === this.link.socket) this.link.handlers.binary(bytes);
    }

    drop(from: LinkSocket, reason: string): void {
      this.link.onDrop(from, reason);
    }
  };
}
