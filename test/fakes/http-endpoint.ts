/**
 * A recording HTTP endpoint on 127.0.0.1 and an ephemeral port, for the application-side remote
 * services of acting agents: the setup webhook, HTTP tools, the events endpoint (and, through
 * twilio-rest.ts, Twilio's REST API). Each request is recorded (bounded) with its arrival time and
 * body, then handed to the test's handler, which may answer, fail, answer late or never.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Conditions } from '../helpers/conditions.js';

export interface RecordedRequest {
  /** performance.now() at arrival (the body fully read). */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What the handler does with a request: answer now, answer after `delayMs`, or never. A handler
 * may also return a promise of it, to answer when the test says so (a barrier, not a timer). */
export type Reply =
  | { readonly status: number; readonly json?: unknown; readonly text?: string; readonly delayMs?: number; readonly headers?: Record<string, string> }
  | 'hang';

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

const MAX_RECORDED = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export class FakeHttpEndpoint {
  readonly requests: RecordedRequest[] = [];
  private readonly conditions = new Conditions('fake http');
  private readonly hanging = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    public handler: Handler,
  ) {}

  static async start(handler: Handler): Promise<FakeHttpEndpoint> {
    const server = createServer();
    const endpoint = new FakeHttpEndpoint(server, handler);
    server.on('request', (req, res) => endpoint.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return endpoint;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Requests whose path is `path`. */
  to(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const res of this.hanging) res.destroy();
    this.conditions.close('closed');
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const request: RecordedRequest = {
        at: performance.now(),
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://fake').pathname,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      if (this.requests.length < MAX_RECORDED) this.requests.push(request);
      this.conditions.notify();
      const reply = this.handler(request);
      if (!(reply instanceof Promise)) return this.reply(res, reply);
      // Held like a hanging answer meanwhile, so close() ends it.
      this.hanging.add(res);
      reply.then(
        (r) => {
          this.hanging.delete(res);
          if (!res.destroyed) this.reply(res, r);
        },
        () => res.destroy(),
      );
    });
  }

  private reply(res: ServerResponse, reply: Reply): void {
    if (reply === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    const send = (): void => {
      const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
      const type = reply.json !== undefined ? 'application/json' : 'text/plain';
      res.writeHead(reply.status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...reply.headers });
      res.end(body);
    };
    if (reply.delayMs === undefined) return send();
    this.hanging.add(res);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.hanging.delete(res);
      if (!res.destroyed) send();
    }, reply.delayMs);
    this.timers.add(timer);
  }
}

/** The JSON body of a recorded request (tests know what they sent). */
export function jsonOf<T = unknown>(request: RecordedRequest): T {
  return JSON.parse(request.body) as T;
}
