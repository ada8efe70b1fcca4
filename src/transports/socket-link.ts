/**
 * The plumbing every caller transport needs around its server-side `ws` socket, whatever the
 * protocol on top: one owned by each adapter (composition, not a base class), so an adapter keeps
 * only its protocol's logic.
 *
 * - Lifecycle: reading is paused until `attach`; events raised before it are queued (bounded) and
 *   delivered in order on attach.
 * - State: one explicit state per connection, `P | 'closed'`, where the adapter names its phases
 *   `P` and the moves allowed between them; closing is allowed from every phase, leaving none.
 * - Sending never throws: a socket that is not open drops the message and counts it.
 * - Closing happens once, whoever closes (us, the peer, or a socket failure), and raises
 *   `closed(code, reason, error?)` exactly once.
 * - Malformed input is counted; past `maxBadInputs` the connection closes with
 *   VW_ERR_TOO_MANY_BAD_INPUTS (4003).
 */
import type { RawData, WebSocket } from 'ws';
import { vwError, type VoicewireError } from '../errors.js';
import type { TransportEvents } from './transport.js';

/** The subset of a pino logger the transports use. */
export interface TransportLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is given). */
export const NOOP_LOGGER: TransportLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Close codes of a normal end (RFC 6455 §7.4.1; 1005: the peer sent no code). No error is reported for them. */
export const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

/** Events raised before `attach` that are kept; a session attaches in the same tick in practice. */
export const MAX_PENDING_EVENTS = 64;

/** Malformed messages tolerated per connection by default; the next one closes it. */
export const DEFAULT_MAX_BAD_INPUTS = 50;

/** Longest close reason RFC 6455 §5.5 allows (a control frame's 125 bytes minus the 2-byte code). */
const MAX_CLOSE_REASON_BYTES = 123;

/** The longest prefix of `text` that fits a close reason (123 bytes of UTF-8); ws throws on longer. */
export function closeReason(text: string): string {
  let reason = text.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

/** Total bytes of a ws message, whichever shape ws delivered it in. */
export function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}

/** A ws message as one run of bytes (a view, not a copy, when it already is one). */
export function rawBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** A ws message decoded as UTF-8. */
export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * The TCP socket under a ws WebSocket (ws keeps it as `_socket`, null until open, and corks it
 * itself around a frame's header and payload); undefined if a future ws no longer has it, and
 * then corking is simply skipped.
 */
function socketOf(ws: WebSocket): { cork(): void; uncork(): void } | undefined {
  const socket = (ws as unknown as { _socket?: { cork?: unknown; uncork?: unknown } | null })._socket;
  if (socket === null || socket === undefined || typeof socket.cork !== 'function' || typeof socket.uncork !== 'function') return undefined;
  return socket as { cork(): void; uncork(): void };
}

/** The moves allowed between an adapter's phases; every phase may also move to 'closed'. */
export type LinkMoves<P extends string> = Readonly<Record<P, readonly P[]>>;

export interface SocketLinkOptions<P extends string> {
  /** The protocol's name in log messages and in VW_ERR_CLOSED ('twilio', 'browser'). */
  readonly label: string;
  /** The owning class, named when `attach` is called twice ('TwilioTransport'). */
  readonly owner: string;
  /** The phase a new connection is in. */
  readonly initial: P;
  readonly moves: LinkMoves<P>;
  readonly logger?: TransportLogger;
  /** Fields added to every log line (read at log time: they may change, like a streamSid). */
  readonly logContext: () => object;
  /** Malformed messages tolerated; the next one closes with 4003. Default DEFAULT_MAX_BAD_INPUTS. */
  readonly maxBadInputs?: number;
  /** Events kept before `attach`. Default MAX_PENDING_EVENTS. */
  readonly maxPendingEvents?: number;
  /** The close reason after a fatal error: its message, or its code. */
  readonly failReason: 'message' | 'code';
  /** Every message while the link is not closed. */
  readonly onMessage: (data: RawData, isBinary: boolean) => void;
  /** Answers malformed input on the wire (e.g. an `error` message) before it is reported or closes. */
  readonly answer?: (error: VoicewireError, detail: string | undefined) => void;
  /** Called once as the link closes, before `closed` is raised (to stop the owner's timers). */
  readonly onClosing?: () => void;
  /**
   * The peer must move the link out of its initial phase (a `start`, a `hello`) within this many
   * ms, or the link fails with VW_ERR_START_TIMEOUT (4020): a socket that never starts would
   * otherwise hold its place (and memory) forever. Unset: the owner keeps its own deadline (the
   * browser's hello deadline answers with a protocol error first).
   */
  readonly startTimeoutMs?: number;
}

/** What the carriers' adapters default to (START_TIMEOUT_MS). */
export const DEFAULT_START_TIMEOUT_MS = 5_000;

/**
 * Owns a server-side `ws` socket for one caller transport: see the module comment. Adapters keep
 * their protocol state in its `state`, moving it with `enter`.
 */
export class SocketLink<P extends string> {
  private current: P | 'closed';
  private events: TransportEvents | undefined;
  /** Events raised before `attach`, made by the first one (a session attaches in the same tick in practice). */
  private pending: Array<(events: TransportEvents) => void> | undefined;
  private badInputCount = 0;
  private droppedSends = 0;
  private readonly log: TransportLogger;
  private readonly maxBadInputs: number;
  private readonly maxPendingEvents: number;
  private startTimer: NodeJS.Timeout | undefined;

  private readonly onMessage = (data: RawData, isBinary: boolean): void => this.handleMessage(data, isBinary);
  private readonly onClose = (code: number, reason: Buffer): void => this.handleSocketClose(code, reason);
  private readonly onError = (err: Error): void => this.log.warn({ err, ...this.options.logContext() }, `${this.options.label} socket error`);
  private readonly onSent = (err?: Error): void => {
    if (err) this.log.debug({ err, ...this.options.logContext() }, `${this.options.label} send failed`);
  };

  /** Takes over `ws` (an open server-side socket) and pauses reading until `attach`. */
  constructor(
    private readonly ws: WebSocket,
    private readonly options: SocketLinkOptions<P>,
  ) {
    this.current = options.initial;
    this.log = options.logger ?? NOOP_LOGGER;
    this.maxBadInputs = options.maxBadInputs ?? DEFAULT_MAX_BAD_INPUTS;
    this.maxPendingEvents = options.maxPendingEvents ?? MAX_PENDING_EVENTS;
    ws.binaryType = 'nodebuffer';
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
    ws.pause();
    const startTimeoutMs = options.startTimeoutMs;
    if (startTimeoutMs !== undefined) {
      this.startTimer = setTimeout(() => this.onStartTimeout(startTimeoutMs), startTimeoutMs);
      this.startTimer.unref();
    }
  }

  private onStartTimeout(timeoutMs: number): void {
    this.startTimer = undefined;
    if (this.current === this.options.initial) this.fail(vwError('VW_ERR_START_TIMEOUT', timeoutMs));
  }

  private stopStartTimer(): void {
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    this.startTimer = undefined;
  }

  get state(): P | 'closed' {
    return this.current;
  }

  /** Malformed messages counted so far. */
  get badInputs(): number {
    return this.badInputCount;
  }

  /** Messages not sent: the socket was not open, or the owner dropped them (`dropSend`). */
  get sendsDropped(): number {
    return this.droppedSends;
  }

  /** Moves to phase `next`; a move the table does not allow (or any move once closed) is a bug and throws. */
  enter(next: P): void {
    const from = this.current;
    if (from === 'closed' || !this.options.moves[from].includes(next)) {
      throw new Error(`${this.options.owner}: no move from ${from} to ${next}`);
    }
    this.stopStartTimer();
    this.current = next;
  }

  /** Sets the handlers, delivers what was queued (in order) and resumes reading. Once only. */
  attach(events: TransportEvents): void {
    if (this.events !== undefined) throw new Error(`${this.options.owner}.attach called twice`);
    this.events = events;
    const pending = this.pending;
    this.pending = undefined;
    for (const deliver of pending ?? []) deliver(events);
    // A queued event may have closed the link (a session closing from inside `start`).
    if (this.current !== 'closed') this.ws.resume();
  }

  /** Delivers now when attached; before that, queues (bounded: past the bound it is dropped and logged). */
  emit(deliver: (events: TransportEvents) => void): void {
    if (this.events !== undefined) {
      deliver(this.events);
      return;
    }
    const pending = (this.pending ??= []);
    if (pending.length >= this.maxPendingEvents) {
      this.log.error({ ...this.options.logContext() }, 'event before attach dropped: pending queue full');
      return;
    }
    pending.push(deliver);
  }

  /** `audio` without a copy when attached; before that `bytes` (a view of a reused buffer) is copied to be queued. */
  emitAudio(bytes: Uint8Array, durationMs: number): void {
    if (this.events !== undefined) return this.events.audio(bytes, durationMs);
    const copy = bytes.slice();
    this.emit((events) => events.audio(copy, durationMs));
  }

  /** Sends a text (string) or binary message. Never throws: a closed or closing socket drops it. */
  send(data: string | Uint8Array): boolean {
    if (this.ws.readyState !== this.ws.OPEN) {
      this.droppedSends++;
      this.log.debug({ ...this.options.logContext(), readyState: this.ws.readyState }, `${this.options.label} socket not open; dropped`);
      return false;
    }
    try {
      if (typeof data === 'string') this.ws.send(data, this.onSent);
      else this.ws.send(data, { binary: true }, this.onSent);
      return true;
    } catch (err) {
      this.droppedSends++;
      this.log.warn({ err, ...this.options.logContext() }, `${this.options.label} send threw`);
      return false;
    }
  }

  /**
   * Holds the messages sent until {@link uncork} in the socket's buffer, so that several messages
   * sent together (a `media` and the `mark` after it) leave in one write (one `writev` syscall)
   * instead of one each. Calls nest; every `cork` needs its `uncork` (in a `finally`).
   */
  cork(): void {
    socketOf(this.ws)?.cork();
  }

  /** Ends a {@link cork}: what was held is written now, in one write. */
  uncork(): void {
    socketOf(this.ws)?.uncork();
  }

  /** Counts a message the owner would not send (e.g. before its stream started); `why` is logged at debug. */
  dropSend(why: object, message: string): void {
    this.droppedSends++;
    this.log.debug({ ...this.options.logContext(), state: this.current, ...why }, message);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Counts a malformed message: it is answered and reported as `badInput`, and the connection
   * lives on; past `maxBadInputs` it is closed with VW_ERR_TOO_MANY_BAD_INPUTS instead.
   */
  reject(error: VoicewireError, detail?: string): void {
    this.badInputCount++;
    if (this.badInputCount > this.maxBadInputs) {
      const fatal = vwError('VW_ERR_TOO_MANY_BAD_INPUTS', this.badInputCount);
      this.options.answer?.(fatal, undefined);
      return this.fail(fatal);
    }
    this.log.warn({ ...this.options.logContext(), code: error.code, detail: detail ?? error.message }, `bad input from ${this.options.label}`);
    this.options.answer?.(error, detail);
    this.emit((events) => events.badInput(error));
  }

  /** Closes with the error's close code (1011 when it has none) and reports it with `closed`. */
  fail(error: VoicewireError): void {
    this.log.warn({ ...this.options.logContext(), code: error.code }, `closing ${this.options.label} connection`);
    const reason = this.options.failReason === 'code' ? error.code : error.message;
    this.close(error.closeCode ?? 1011, reason, error);
  }

  /** Closes the socket and raises `closed(code, reason, error)`, once; later calls do nothing. */
  close(code: number, reason: string, error?: VoicewireError): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.stopStartTimer();
    this.options.onClosing?.();
    try {
      this.ws.close(code, closeReason(reason));
    } catch (err) {
      // An invalid code from the caller: do not leave the socket open because of it.
      this.log.warn({ err, ...this.options.logContext(), code }, 'close failed; terminating');
      this.ws.terminate();
    }
    this.emit((events) => events.closed(code, reason, error));
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (this.current === 'closed') return;
    this.options.onMessage(data, isBinary);
  }

  private handleSocketClose(code: number, reason: Buffer): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.stopStartTimer();
    this.options.onClosing?.();
    const text = reason.toString('utf8');
    const error = CLEAN_CLOSE_CODES.has(code) ? undefined : vwError('VW_ERR_CLOSED', `${this.options.label} socket closed with ${code}`);
    this.log.info({ ...this.options.logContext(), code, reason: text }, `${this.options.label} socket closed`);
    this.emit((events) => events.closed(code, text, error));
  }
}
