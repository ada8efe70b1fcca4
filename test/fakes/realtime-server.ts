/**
 * A fake OpenAI Realtime (GA) server over real sockets, on 127.0.0.1 and an ephemeral port.
 *
 * Speaks the protocol the way the field sees it (protocols.md §4): API-key check on the upgrade
 * (401 otherwise), `session.created`, GA validation of `session.update` with the real errors for
 * beta shapes, server VAD on appended audio by the audio clock, responses paced faster than real
 * time, `response.cancel` / `conversation.item.truncate` with the real answers, and records of
 * everything received for assertions (see FakeLog). Faults: drop, stall, error events, malformed
 * JSON, refused upgrades.
 *
 *   const fake = await FakeRealtimeServer.start({ speedFactor: 10 });
 *   const url = fake.url();            // ws://127.0.0.1:<port>/v1/realtime?model=gpt-realtime
 *   ...
 *   await fake.close();
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FakeConnection, type FakeServerContext } from './realtime-server-connection.js';
import { FakeLog } from './realtime-server-log.js';
import type { FakeApiError } from './realtime-server-session.js';
import type { FakeTurn } from './realtime-server-tools.js';

export type { FakeTurn } from './realtime-server-tools.js';

export interface FakeRealtimeOptions {
  /** Key the client must present (default 'test-key'). */
  readonly apiKey?: string;
  /** Accepted auth: `Authorization: Bearer`, Azure `api-key`, either (default) or none. */
  readonly auth?: 'bearer' | 'api-key' | 'either' | 'none';
  /** Voiced input audio needed before speech_started, by the audio clock (default 100 ms). */
  readonly detectionDelayMs?: number;
  /** RMS (PCM16 units) of a 10 ms window that counts as voiced (default 500, ≈ −36 dBFS). */
  readonly vadThreshold?: number;
  /** Length of an automatic (or `respond()`) answer, ms of audio (default 20000). */
  readonly answerMs?: number;
  /** Audio per delta, ms (default 100). */
  readonly deltaMs?: number;
  /** Audio is sent this many times faster than real time (default 10). */
  readonly speedFactor?: number;
  /** Model "thinking" time: the first audio delta of a response comes this long after response.created. Default 0. */
  readonly firstDeltaDelayMs?: number;
  /** Transcript of every answer, spread over its deltas. */
  readonly transcript?: string;
  /** Server-side barge-in: follow the session's `interrupt_response` (default) or force it. */
  readonly interruptResponse?: 'session' | boolean;
  /** Deltas still sent after a cancel, like deltas already in flight (default 0). */
  readonly cancelLagDeltas?: number;
  /** Kill the connection (no close frame) after this many deltas of a response. */
  readonly dropAfterDeltas?: number;
  /** How many times `dropAfterDeltas` fires (default 1). */
  readonly drops?: number;
  /** Answer an `OpenAI-Beta` header with beta_api_shape_disabled + close 4000 (default true). */
  readonly rejectBeta?: boolean;
  /** Answer session.update with this error, or not at all ('ignore'); default: validate and answer. */
  readonly sessionUpdateFault?: 'ignore' | FakeApiError;
  /** Answer WebSocket pings (default true); false simulates a peer whose pongs never come. */
  readonly answerPings?: boolean;
  /** Max entries per log list (default 5000). */
  readonly logLimit?: number;
  /** Appended audio kept for `appendedBytes()` (default 1 MiB). */
  readonly appendLimitBytes?: number;
  /** Answers in order (automatic or `response.create`); then the default answer. */
  readonly script?: readonly FakeTurn[];
  /** What input transcription reports the caller said (when the session turned it on). */
  readonly callerTranscript?: string;
}

export type ResolvedFakeOptions = Required<Omit<FakeRealtimeOptions, 'dropAfterDeltas' | 'sessionUpdateFault' | 'script'>> & {
  readonly dropAfterDeltas: number | undefined;
  readonly sessionUpdateFault: 'ignore' | FakeApiError | undefined;
};

function resolve(options: FakeRealtimeOptions): ResolvedFakeOptions {
  return {
    apiKey: options.apiKey ?? 'test-key',
    auth: options.auth ?? 'either',
    detectionDelayMs: options.detectionDelayMs ?? 100,
    vadThreshold: options.vadThreshold ?? 500,
    answerMs: options.answerMs ?? 20_000,
    deltaMs: options.deltaMs ?? 100,
    speedFactor: options.speedFactor ?? 10,
    transcript: options.transcript ?? 'Hello, this is the fake model answering your question at length.',
    interruptResponse: options.interruptResponse ?? 'session',
    cancelLagDeltas: options.cancelLagDeltas ?? 0,
    firstDeltaDelayMs: options.firstDeltaDelayMs ?? 0,
    dropAfterDeltas: options.dropAfterDeltas,
    drops: options.drops ?? 1,
    rejectBeta: options.rejectBeta ?? true,
    sessionUpdateFault: options.sessionUpdateFault,
    answerPings: options.answerPings ?? true,
    logLimit: options.logLimit ?? 5000,
    appendLimitBytes: options.appendLimitBytes ?? 1024 * 1024,
    callerTranscript: options.callerTranscript ?? 'what the caller said',
  };
}

export class FakeRealtimeServer implements FakeServerContext {
  readonly options: ResolvedFakeOptions;
  readonly log: FakeLog;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly live = new Set<FakeConnection>();
  private latest: FakeConnection | undefined;
  private ids = 0;
  private connectionCount = 0;
  private dropsLeft: number;
  private refuseStatus: number | undefined;
  private readonly script: FakeTurn[];

  private constructor(options: FakeRealtimeOptions) {
    this.options = resolve(options);
    this.log = new FakeLog(this.options.logLimit, this.options.appendLimitBytes);
    this.dropsLeft = this.options.drops;
    this.script = [...(options.script ?? [])];
    this.wss = new WebSocketServer({
      noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, autoPong: this.options.answerPings,
    });
    this.http = createServer((_req, res) => {
      res.writeHead(426).end();
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  static async start(options: FakeRealtimeOptions = {}): Promise<FakeRealtimeServer> {
    const server = new FakeRealtimeServer(options);
    await new Promise<void>((resolveListen, reject) => {
      server.http.once('error', reject);
      server.http.listen(0, '127.0.0.1', () => resolveListen());
    });
    return server;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** A URL to connect to; any path works (e.g. Azure's `/openai/v1/realtime`). */
  url(model = 'gpt-realtime', path = '/v1/realtime'): string {
    return `ws://127.0.0.1:${this.port}${path}?model=${encodeURIComponent(model)}`;
  }

  // Shortcuts to the most used records (all of them live on `log`).
  get received(): FakeLog['received'] {
    return this.log.received;
  }
  get cancels(): FakeLog['cancels'] {
    return this.log.cancels;
  }
  get truncates(): FakeLog['truncates'] {
    return this.log.truncates;
  }
  get speechStartedAt(): FakeLog['speechStartedAt'] {
    return this.log.speechStartedAt;
  }
  get appendedMs(): number {
    return this.log.appendedMs;
  }

  /** The most recent connection (the one the methods below act on). */
  get connection(): FakeConnection | undefined {
    return this.latest;
  }

  get openConnections(): number {
    return this.live.size;
  }

  nextId(prefix: string): string {
    this.ids++;
    return `${prefix}_fake${this.ids}`;
  }

  takeDrop(deltasSent: number): boolean {
    if (this.options.dropAfterDeltas === undefined || this.dropsLeft <= 0) return false;
    if (deltasSent < this.options.dropAfterDeltas) return false;
    this.dropsLeft--;
    return true;
  }

  takeTurn(): FakeTurn | undefined {
    return this.script.shift();
  }

  /** Starts a response on the latest connection; returns its id (undefined if one is active). */
  respond(options: { ms?: number; text?: string; functionCall?: { name: string; arguments: string } } = {}): string | undefined {
    return this.requireConnection().respond(options.ms, options.text, options.functionCall);
  }

  /** Emits speech_started now on the latest connection (with interrupt_response applied). */
  emitSpeechStarted(): void {
    this.requireConnection().speechStarted('manual');
  }

  /** Sends an `error` event (the session stays open, like the real API). */
  sendError(error: Partial<FakeApiError> & { code: string; message: string }): void {
    this.requireConnection().sendError({ type: 'invalid_request_error', param: null, ...error });
  }

  /** Sends a raw text frame (malformed JSON, unknown events...). */
  sendRaw(text: string): void {
    this.requireConnection().sendRaw(text);
  }

  /** Kills the latest connection without a close frame (a network drop). */
  drop(): void {
    this.requireConnection().drop();
  }

  /** Stops reading from the latest connection (a stalled model); `unstall()` resumes. */
  stall(): void {
    this.requireConnection().stall();
  }

  unstall(): void {
    this.requireConnection().unstall();
  }

  /** Answer future upgrades with this HTTP status (e.g. 503); undefined accepts again. */
  refuseConnections(status: number | undefined): void {
    this.refuseStatus = status;
  }

  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void> {
    return this.log.waitFor(predicate, what, timeoutMs);
  }

  /** Terminates every connection and stops listening. */
  async close(): Promise<void> {
    for (const connection of this.live) connection.drop();
    this.live.clear();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((done) => this.http.close(() => done()));
  }

  private requireConnection(): FakeConnection {
    if (this.latest === undefined || !this.latest.isOpen) throw new Error('fake realtime server: no open connection');
    return this.latest;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refuseStatus !== undefined) return rejectUpgrade(socket, this.refuseStatus, 'refused by test');
    if (!this.authorized(req)) return rejectUpgrade(socket, 401, 'Incorrect API key provided.');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const id = ++this.connectionCount;
      this.log.add(this.log.connections, { at: FakeLog.now(), id, url: req.url ?? '', headers: { ...req.headers } });
      const model = new URL(req.url ?? '/', 'ws://fake').searchParams.get('model') ?? 'gpt-realtime';
      const connection = new FakeConnection(this, id, ws, socket, model);
      this.live.add(connection);
      this.latest = connection;
      ws.on('close', (code: number) => {
        this.live.delete(connection);
        this.log.add(this.log.closes, { at: FakeLog.now(), connection: id, code });
      });
      if (this.options.rejectBeta && req.headers['openai-beta'] !== undefined) {
        connection.sendError({ type: 'invalid_request_error', code: 'beta_api_shape_disabled', message: 'The Realtime beta API shape is no longer supported; use the GA shape.', param: null });
        connection.close(4000, 'beta_api_shape_disabled');
        return;
      }
      connection.start();
    });
  }

  private authorized(req: IncomingMessage): boolean {
    const { auth, apiKey } = this.options;
    if (auth === 'none') return true;
    const bearer = req.headers.authorization === `Bearer ${apiKey}`;
    const azure = req.headers['api-key'] === apiKey;
    if (auth === 'bearer') return bearer;
    if (auth === 'api-key') return azure;
    return bearer || azure;
  }
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { type: 'invalid_request_error', code: status === 401 ? 'invalid_api_key' : null, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
