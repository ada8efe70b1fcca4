/**
 * The gateway: one HTTP server, one `ws` server in noServer mode (authentication happens before the
 * 101), the features registered as route plugins, and the set of live calls.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { GatewayMetrics } from './metrics.js';
import { Router } from './router.js';
import { sendError } from './http-util.js';
import { CallRegistry } from './call-registry.js';
import type { ModelFactory } from '../models/model.js';
import type { AgentServices } from '../agent/services.js';

/** Hard limit of one WebSocket message: a Twilio frame is ~400 bytes, a browser frame a few KB. */
export const MAX_WS_PAYLOAD = 64 * 1024;

export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly router: Router;
  readonly wss: WebSocketServer;
  readonly calls: CallRegistry;
  readonly createModel: ModelFactory;
  /** Setup, tools and events for acting agents; undefined when none is configured. */
  readonly agent?: AgentServices;
  /** Whether the gateway accepts new calls (readiness). */
  accepting(): boolean;
}

export type GatewayPlugin = (ctx: GatewayContext) => void;

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly createModel: ModelFactory;
  readonly plugins: readonly GatewayPlugin[];
  readonly metrics?: GatewayMetrics;
  readonly agent?: AgentServices;
}

export class Gateway {
  readonly context: GatewayContext;
  private readonly server: Server;
  private draining = false;

  constructor(options: GatewayOptions) {
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, perMessageDeflate: false });
    const metrics = options.metrics ?? new GatewayMetrics();
    const calls = new CallRegistry(options.config.maxCalls);
    this.context = {
      config: options.config,
      logger: options.logger,
      metrics,
      router: new Router(),
      wss,
      calls,
      createModel: options.createModel,
      ...(options.agent ? { agent: options.agent } : {}),
      accepting: () => !this.draining && calls.size < options.config.maxCalls,
    };
    for (const plugin of options.plugins) plugin(this.context);
    this.server = createServer((req, res) => {
      const url = requestUrl(req);
      const handler = this.context.router.findHttp(req.method ?? 'GET', url.pathname);
      if (!handler) {
        const allowed = this.context.router.methodsFor(url.pathname);
        if (allowed.length > 0) {
          res.setHeader('allow', allowed.join(', '));
          sendError(res, 405, 'VW_ERR_METHOD', `use ${allowed.join(' or ')}`);
        } else {
          sendError(res, 404, 'VW_ERR_NOT_FOUND', `no route for ${url.pathname}`);
        }
        return;
      }
      Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
        this.context.logger.error({ err, path: url.pathname }, 'route failed');
        if (!res.headersSent) sendError(res, 500, 'VW_ERR_INTERNAL', 'internal error');
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err, socket) => {
      this.context.logger.debug({ err }, 'http client error');
      socket.destroy();
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = requestUrl(req);
    const handler = this.context.router.findUpgrade(url.pathname);
    socket.on('error', (err) => this.context.logger.debug({ err }, 'upgrade socket error'));
    if (!handler) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!this.context.accepting()) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    Promise.resolve(handler(req, socket, head, url)).catch((err: unknown) => {
      this.context.logger.error({ err, path: url.pathname }, 'upgrade failed');
      rejectUpgrade(socket, 500, 'Internal Server Error');
    });
  }

  async listen(port = this.context.config.port, host = this.context.config.host): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting calls, ends the live ones, closes the server. */
  async close(): Promise<void> {
    this.draining = true;
    await this.context.calls.endAll('gateway shutting down');
    await this.context.agent?.close?.();
    for (const client of this.context.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function requestUrl(req: IncomingMessage): URL {
  // The host part does not matter for routing; a bad Host header must not make routing throw.
  try {
    return new URL(req.url ?? '/', 'http://gateway.invalid');
  } catch {
    return new URL('http://gateway.invalid/');
  }
}

/** Answers an upgrade request with a plain HTTP status and closes the socket (before any 101). */
export function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
