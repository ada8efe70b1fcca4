/**
 * One WebSocket to the Realtime server: open with a deadline, text frames in and out, a heartbeat,
 * and exactly one `drop` report when the socket ends without our asking. Reconnecting is the
 * client's business; this object lives for one connection.
 */
import type WebSocket from 'ws';
import { vwError, type VoicewireError } from '../../errors.js';
import type { LoggerLike, WebSocketConstructor } from './options.js';

export interface ModelSocketOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly WebSocketImpl: WebSocketConstructor;
  readonly maxPayload: number;
  readonly openTimeoutMs: number;
  /** 0 disables the heartbeat. */
  readonly heartbeatMs: number;
  readonly missedPongsLimit: number;
  readonly logger: LoggerLike;
}

/**
 * Callbacks get the socket they concern: frames can arrive in the same read as the upgrade
 * response, before `open()`'s promise has been resolved to its caller.
 */
export interface ModelSocketHandlers {
  /** The socket opened; called synchronously, before any frame is delivered. */
  open(socket: ModelSocket): void;
  /** A text frame (binary frames arrive as `undefined`: the protocol has none). */
  message(socket: ModelSocket, text: string | undefined): void;
  /** The socket ended without `close()`: a network drop, a server close or a missed heartbeat. */
  drop(socket: ModelSocket, reason: string): void;
}

type SocketState = 'opening' | 'open' | 'closed';

export class ModelSocket {
  private readonly ws: WebSocket;
  private readonly options: ModelSocketOptions;
  private readonly handlers: ModelSocketHandlers;
  private state: SocketState = 'opening';
  private heartbeat: NodeJS.Timeout | undefined;
  private missedPongs = 0;

  private constructor(ws: WebSocket, options: ModelSocketOptions, handlers: ModelSocketHandlers) {
    this.ws = ws;
    this.options = options;
    this.handlers = handlers;
  }

  /**
   * Opens a socket. Resolves once it is open; rejects with VW_ERR_MODEL_UNAVAILABLE on a refused
   * connection, a non-101 answer (e.g. 401) or the deadline, and with VW_ERR_CLOSED on `signal`.
   */
  static open(options: ModelSocketOptions, handlers: ModelSocketHandlers, signal: AbortSignal): Promise<ModelSocket> {
    return new Promise<ModelSocket>((resolve, reject) => {
      if (signal.aborted) {
        reject(vwError('VW_ERR_CLOSED', 'connect aborted'));
        return;
      }
      const ws = new options.WebSocketImpl(options.url, {
        headers: { ...options.headers },
        perMessageDeflate: false,
        maxPayload: options.maxPayload,
        handshakeTimeout: options.openTimeoutMs,
      });
      const socket = new ModelSocket(ws, options, handlers);
      let settled = false;
      const fail = (error: VoicewireError): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        socket.state = 'closed';
        ws.removeAllListeners();
        // A handshake that failed has no socket to close politely.
        ws.on('error', noop);
        ws.terminate();
        reject(error);
      };
      const onAbort = (): void => fail(vwError('VW_ERR_CLOSED', 'connect aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      ws.once('unexpected-response', (_req, res) => {
        fail(vwError('VW_ERR_MODEL_UNAVAILABLE', `HTTP ${res.statusCode ?? '?'} on upgrade`));
      });
      ws.once('error', (err: Error) => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', err.message)));
      ws.once('close', (code: number) => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', `closed ${code} while opening`)));
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        ws.removeAllListeners();
        socket.attach();
        handlers.open(socket);
        resolve(socket);
      });
    });
  }

  /** Bytes queued in `ws` and the socket's user-space buffer (not the kernel's). */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.ws.readyState === this.ws.OPEN;
  }

  /** Sends a text frame; false when the socket is not open (nothing sent). */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.ws.send(text, onSent.bind(undefined, this));
    return true;
  }

  /** Ends the socket on purpose: no `drop` will be reported. */
  close(code = 1000, reason = 'done'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopHeartbeat();
    this.ws.close(code, reason);
    // The close handshake can take up to ws's closeTimeout (30 s); a peer that stalls must not
    // keep the socket: terminate after a short grace period.
    const ws = this.ws;
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  /** @internal */ sentFailed(err: Error): void {
    this.options.logger.debug({ err: err.message }, 'model socket write failed');
  }

  /** @internal */ onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.state !== 'open') return;
    this.handlers.message(this, isBinary ? undefined : rawToString(data));
  }

  /** @internal */ onPong(): void {
    this.missedPongs = 0;
  }

  /** @internal */ onClose(code: number, reason: Buffer): void {
    this.stopHeartbeat();
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handlers.drop(this, `closed ${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''}`);
  }

  /** @internal */ onError(err: Error): void {
    // 'close' always follows 'error' in ws; the drop is reported there, once.
    this.options.logger.debug({ err: err.message }, 'model socket error');
  }

  /** @internal */ onHeartbeat(): void {
    if (!this.isOpen) return;
    if (this.missedPongs >= this.options.missedPongsLimit) {
      this.options.logger.warn({ missedPongs: this.missedPongs }, 'model socket missed heartbeats: terminating');
      this.stopHeartbeat();
      // terminate() makes ws emit 'close' (1006), which reports the drop.
      this.ws.terminate();
      return;
    }
    this.missedPongs++;
    this.ws.ping();
  }

  private attach(): void {
    this.state = 'open';
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('pong', () => this.onPong());
    this.ws.on('close', (code, reason) => this.onClose(code, reason));
    this.ws.on('error', (err) => this.onError(err));
    if (this.options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.onHeartbeat(), this.options.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function onSent(socket: ModelSocket, err?: Error): void {
  if (err !== undefined && err !== null) socket.sentFailed(err);
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function noop(): void {
  // Swallowing is deliberate: the failure was already reported by the caller of terminate().
}
