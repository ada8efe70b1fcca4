/**
 * The server half shared by the fake model APIs: an HTTP server on 127.0.0.1 and an ephemeral
 * port, WebSocket upgrades with an auth check (HTTP 401 otherwise) or a refusal on demand, live
 * connections, and a record of what happened with event-driven waits (no sleeps).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { Conditions } from '../helpers/conditions.js';

export interface UpgradeRecord {
  readonly at: number;
  readonly id: number;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface CloseRecord {
  readonly at: number;
  readonly connection: number;
  readonly code: number;
}

/** A bounded list that wakes waits on every push. */
export class Records<T> {
  readonly items: T[] = [];
  constructor(
    private readonly notify: () => void,
    private readonly limit = 5000,
  ) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.limit) this.items.shift();
    this.notify();
  }
  get length(): number {
    return this.items.length;
  }
  at(index: number): T | undefined {
    return this.items.at(index);
  }
}

export interface FakeServerHooks {
  /** True when the upgrade request carries the right key. */
  authorized(req: IncomingMessage): boolean;
  /** A new connection (after the upgrade). */
  connection(ws: WebSocket, id: number, req: IncomingMessage): void;
}

export class FakeModelServer {
  readonly conditions: Conditions;
  readonly upgrades: Records<UpgradeRecord>;
  readonly closes: Records<CloseRecord>;
  readonly sockets = new Map<number, WebSocket>();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private count = 0;
  private refuseStatus: number | undefined;

  constructor(
    label: string,
    private readonly hooks: FakeServerHooks,
    options: { readonly answerPings?: boolean } = {},
  ) {
    this.conditions = new Conditions(label);
    const notify = (): void => this.conditions.notify();
    this.upgrades = new Records(notify);
    this.closes = new Records(notify);
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, autoPong: options.answerPings ?? true });
    this.http = createServer((_req, res) => res.writeHead(426).end());
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  static now(): number {
    return performance.now();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => resolve());
    });
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Answer future upgrades with this HTTP status; undefined accepts again. */
  refuseConnections(status: number | undefined): void {
    this.refuseStatus = status;
  }

  until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  async close(): Promise<void> {
    for (const ws of this.sockets.values()) ws.terminate();
    this.sockets.clear();
    this.wss.close();
    this.http.closeAllConnections();
    this.conditions.close('fake closed');
    await new Promise<void>((done) => this.http.close(() => done()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refuseStatus !== undefined) return rejectUpgrade(socket, this.refuseStatus);
    if (!this.hooks.authorized(req)) return rejectUpgrade(socket, 401);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const id = ++this.count;
      this.sockets.set(id, ws);
      this.upgrades.push({ at: FakeModelServer.now(), id, url: req.url ?? '', headers: { ...req.headers } });
      ws.on('close', (code: number) => {
        this.sockets.delete(id);
        this.closes.push({ at: FakeModelServer.now(), connection: id, code });
      });
      this.hooks.connection(ws, id, req);
    });
  }
}

function rejectUpgrade(socket: Duplex, status: number): void {
  const body = JSON.stringify({ error: status === 401 ? 'unauthorized' : 'refused by test' });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Text of a ws message (text or binary frame). */
export function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function rawBytes(data: WebSocket.RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

/** A function call a fake model makes instead of answering the caller's next turn (one per turn, in order). */
export interface FakeToolPlan {
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/** What a fake model API's tests drive on its newest open connection. */
export interface DrivenConnection {
  readonly isOpen: boolean;
  respond(ms?: number): void;
  drop(): void;
  sendRaw(text: string): void;
  send(message: Record<string, unknown>): void;
}

/**
 * The test-facing half every fake model API shares: commands to the newest open connection, waits
 * on what was recorded, closing, and the one planned socket drop (`dropAfterChunks`).
 */
export abstract class FakeModelApi<C extends DrivenConnection> {
  abstract readonly server: FakeModelServer;
  /** The newest connection (set by the subclass's connection hook). */
  protected latest: C | undefined;
  private dropsLeft = 1;

  constructor(
    private readonly label: string,
    private readonly dropAfterChunks: number | undefined,
  ) {}

  /** True once, when a connection has sent `dropAfterChunks` chunks: it should drop its socket. */
  takeDrop(chunks: number): boolean {
    if (this.dropAfterChunks === undefined || this.dropsLeft <= 0 || chunks < this.dropAfterChunks) return false;
    this.dropsLeft--;
    return true;
  }

  respond(ms?: number): void {
    this.require().respond(ms);
  }

  drop(): void {
    this.require().drop();
  }

  sendRaw(text: string): void {
    this.require().sendRaw(text);
  }

  send(message: Record<string, unknown>): void {
    this.require().send(message);
  }

  until(check: () => boolean, what: string, timeoutMs?: number): Promise<void> {
    return this.server.until(check, what, timeoutMs);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  protected require(): C {
    if (this.latest === undefined || !this.latest.isOpen) throw new Error(`${this.label}: no open connection`);
    return this.latest;
  }
}
