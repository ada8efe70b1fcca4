/**
 * One WebSocket to a model provider: open with a deadline, text and binary frames both ways, a
 * ping heartbeat, and exactly one `drop` report when the socket ends without our asking.
 * Reconnecting is ModelLink's business; this object lives for one connection.
 */
import type WebSocket from 'ws';
import { vwError, type VoicewireError } from '../../errors.js';
import type { LoggerLike, WebSocketConstructor } from './options.js';
import { sharedTicker, type SharedTicker } from './shared-ticker.js';

export interface LinkSocketOptions {
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

/** Callbacks get the socket they concern: frames can arrive in the same read as the upgrade. */
export interface LinkSocketHandlers {
  /** The socket opened; called synchronously, before any frame is delivered. */
  open(socket: LinkSocket): void;
  text(socket: LinkSocket, text: string): void;
  binary(socket: LinkSocket, bytes: Uint8Array): void;
  /** The socket ended without `close()`: a network drop, a server close or missed heartbeats. */
  drop(socket: LinkSocket, reason: string, code: number): void;
}

type SocketState = 'opening' | 'open' | 'closed';

export class LinkSocket {
  private state: SocketState = 'opening';
  /** The ticker this socket's heartbeat runs on, while it runs. */
  private heartbeat: SharedTicker | undefined;
  /** Its job on that ticker (the first ping comes within one period of opening, not exactly at its end). */
  private readonly beat = (): void => this.onHeartbeat();
  private missedPongs = 0;
  /** One callback for every send (not a bound function per message). */
  private readonly onSent = (err?: Error): void => onSent(this, err);

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: LinkSocketOptions,
    private readonly handlers: LinkSocketHandlers,
  ) {}

  /**
   * Opens a socket. Resolves once open; rejects with VW_ERR_MODEL_UNAVAILABLE on a refused
   * connection, a non-101 answer (e.g. 401) or the deadline, and with VW_ERR_CLOSED on `signal`.
   */
  static open(options: LinkSocketOptions, handlers: LinkSocketHandlers, signal: AbortSignal): Promise<LinkSocket> {
    return new Promise<LinkSocket>((resolve, reject) => {
      if (signal.aborted) {
        reject(vwError('VW_ERR_CLOSED', 'connect aborted'));
        return;
      }
      // The open deadline is ours, not ws's `handshakeTimeout`: that one sets a socket timeout
      // which ws clears on open but Node keeps on the socket (a dead timer per call).
      const ws = new options.WebSocketImpl(options.url, {
        headers: { ...options.headers },
        perMessageDeflate: false,
        maxPayload: options.maxPayload,
      });
      const socket = new LinkSocket(ws, options, handlers);
      let settled = false;
      const deadline = setTimeout(() => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', `no upgrade answer within ${options.openTimeoutMs} ms`)), options.openTimeoutMs);
      const fail = (error: VoicewireError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
        socket.state = 'closed';
        ws.removeAllListeners();
        ws.on('error', swallow); // a failed handshake has no socket to close politely
        ws.terminate();
        reject(error);
      };
      const onAbort = (): void => fail(vwError('VW_ERR_CLOSED', 'connect aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      ws.once('unexpected-response', (_req, res) => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', `HTTP ${res.statusCode ?? '?'} on upgrade`)));
      ws.once('error', (err: Error) => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', err.message)));
      ws.once('close', (code: number) => fail(vwError('VW_ERR_MODEL_UNAVAILABLE', `closed ${code} while opening`)));
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
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
  sendText(text: string): boolean {
    if (!this.isOpen) return false;
    this.ws.send(text, this.onSent);
    return true;
  }

  /** Sends a binary frame. `ws` may hold `bytes` until written: pass bytes nobody will reuse. */
  sendBinary(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.ws.send(bytes, { binary: true }, this.onSent);
    return true;
  }

  /** Ends the socket on purpose: no `drop` will be reported. */
  close(code = 1000, reason = 'done'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopHeartbeat();
    this.ws.close(code, reason);
    // The close handshake can take up to ws's closeTimeout (30 s): a stalled peer must not keep it.
    const ws = this.ws;
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  /** @internal */ sentFailed(err: Error): void {
    this.options.logger.debug({ err: err.message }, 'model socket write failed');
  }

  /** @internal */ onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.state !== 'open') return;
    if (isBinary) {
      this.handlers.binary(this, rawBytes(data));
      return;
    }
    // ws hands text frames over as one Buffer (binaryType 'nodebuffer'): decoded without a second wrapper.
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(rawBytes(data)).toString('utf8');
    this.handlers.text(this, text);
  }

  /** @internal */ onClose(code: number, reason: Buffer): void {
    this.stopHeartbeat();
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.handlers.drop(this, `closed ${code}${reason.length > 0 ? ` ${reason.toString('utf8')}` : ''}`, code);
  }

  /** @internal */ onHeartbeat(): void {
    if (!this.isOpen) return;
    if (this.missedPongs >= this.options.missedPongsLimit) {
      this.options.logger.warn({ missedPongs: this.missedPongs }, 'model socket missed heartbeats: terminating');
      this.stopHeartbeat();
      this.ws.terminate(); // ws then emits 'close' (1006), which reports the drop
      return;
    }
    this.missedPongs++;
    this.ws.ping();
  }

  private attach(): void {
    this.state = 'open';
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('pong', () => {
      this.missedPongs = 0;
    });
    this.ws.on('close', (code, reason) => this.onClose(code, reason));
    // 'close' always follows 'error' in ws; the drop is reported there, once.
    this.ws.on('error', (err) => this.options.logger.debug({ err: err.message }, 'model socket error'));
    if (this.options.heartbeatMs > 0) {
      this.heartbeat = sharedTicker(this.options.heartbeatMs);
      this.heartbeat.add(this.beat);
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === undefined) return;
    this.heartbeat.delete(this.beat);
    this.heartbeat = undefined;
  }
}

function onSent(socket: LinkSocket, err?: Error): void {
  if (err !== undefined && err !== null) socket.sentFailed(err);
}

function rawBytes(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

function swallow(): void {
  // Deliberate: the failure was already reported by the caller of terminate().
}
