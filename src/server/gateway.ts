/**
 * The gateway: one HTTP server, one `ws` server in noServer mode (authentication happens before the
 * 101), the features registered as route plugins, and the calls. Optionally a second, admin
 * listener (ADMIN_PORT) for /metrics and the health checks.
 *
 * States: `serving` → `draining` (SIGTERM: /readyz 503, new webhooks and upgrades 503, live calls
 * go on) → `closed`. Per-client-address token buckets guard POSTs and upgrades in every state.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import { GatewayMetrics } from './metrics.js';
import { Router } from './router.js';
import { sendError } from './http-util.js';
import { CallRegistry } from './call-registry.js';
import type { CallSession } from '../session/call-session.js';
import type { ModelFactory } from '../models/model.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { cidrMatcher } from './fleet-config.js';
import { clientAddress } from './client-address.js';
import { RateLimiter } from './rate-limiter.js';
import { drainCalls, type DrainReport } from './drain.js';
import { closeSockets } from './close-sockets.js';
import type { AgentServices } from '../agent/services.js';

/** Hard limit of one WebSocket message: a Twilio frame is ~400 bytes, a browser frame a few KB. */
export const MAX_WS_PAYLOAD = 64 * 1024;

export type GatewayState = 'serving' | 'draining' | 'closed';

export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Routes of the call listener. */
  readonly router: Router;
  /** Routes of the admin listener (ADMIN_PORT); without one they are served on the call listener. */
  readonly adminRouter: Router;
  readonly wss: WebSocketServer;
  readonly calls: CallRegistry<CallSession>;
  readonly createModel: ModelFactory;
  /** Tracer and meter (no-op without an OTLP endpoint). */
  readonly telemetry: Telemetry;
  /** Setup, tools and events for acting agents; undefined when none is configured. */
  readonly agent?: AgentServices;
  /** Whether the gateway accepts new calls (readiness). */
  accepting(): boolean;
  state(): GatewayState;
}

export type GatewayPlugin = (ctx: GatewayContext) => void;

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly createModel: ModelFactory;
  readonly plugins: readonly GatewayPlugin[];
  readonly metrics?: GatewayMetrics;
  readonly telemetry?: Telemetry;
  readonly agent?: AgentServices;
}

/** How long ended calls' close handshakes may take before their sockets are cut. */
const CLOSE_HANDSHAKE_MS = 2_000;

export class Gateway {
  readonly context: GatewayContext;
  private readonly server: Server;
  private readonly adminServer: Server | undefined;
  private current: GatewayState = 'serving';
  private draining: Promise<DrainReport> | undefined;
  private readonly stopController = new AbortController();
  private readonly webhookLimiter: RateLimiter;
  private readonly upgradeLimiter: RateLimiter;
  private readonly trusted: (address: string) => boolean;
  /**
   * One listener for every upgrade socket's errors: it stays on the socket for the call's life, so
   * a closure made in `onUpgrade` would keep that upgrade's locals (its parsed URL) as long.
   */
  private readonly onUpgradeSocketError = (err: Error): void => this.context.logger.debug({ err }, 'upgrade socket error');

  constructor(options: GatewayOptions) {
    const { config } = options;
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD, perMessageDeflate: false });
    const metrics = options.metrics ?? new GatewayMetrics();
    const calls = new CallRegistry<CallSession>(config.maxCalls, config.fleet.maxPendingStreams);
    this.context = {
      config,
      logger: options.logger,
      metrics,
      router: new Router(),
      adminRouter: new Router(),
      wss,
      calls,
      createModel: options.createModel,
      telemetry: options.telemetry ?? noopTelemetry(),
      ...(options.agent ? { agent: options.agent } : {}),
      accepting: () => this.current === 'serving' && calls.size < config.maxCalls,
      state: () => this.current,
    };
    const { fleet } = config;
    this.trusted = cidrMatcher(fleet.trustedProxies);
    this.webhookLimiter = new RateLimiter({ ...fleet.webhookRate, maxAddresses: fleet.rateLimitAddresses });
    this.upgradeLimiter = new RateLimiter({ ...fleet.upgradeRate, maxAddresses: fleet.rateLimitAddresses });
    metrics.pendingStreamsNow = () => calls.pendingSize;
    metrics.readyNow = () => this.context.accepting();
    metrics.maxBufferedNow = () => {
      let max = 0;
      for (const call of calls) max = Math.max(max, call.snapshot().transportBufferedBytes);
      return max;
    };
    for (const plugin of options.plugins) plugin(this.context);

    const separateAdmin = fleet.adminPort !== undefined;
    const callRouters = separateAdmin ? [this.context.router] : [this.context.router, this.context.adminRouter];
    this.server = createServer((req, res) => this.onRequest(req, res, callRouters));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err, socket) => {
      this.context.logger.debug({ err }, 'http client error');
      socket.destroy();
    });
    if (separateAdmin) {
      this.adminServer = createServer((req, res) => serveRoutes([this.context.adminRouter], req, res, this.context.logger));
    }
  }

  get state(): GatewayState {
    return this.current;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, routers: readonly Router[]): void {
    const method = req.method ?? 'GET';
    // Routes that start calls (webhooks, POST /session, CORS preflights: every method but GET/HEAD
    // unless a route says otherwise) are rate-limited per address and refused while draining.
    if (routers.some((r) => r.kindOf(method, requestUrl(req).pathname) === 'call')) {
      if (!this.webhookLimiter.take(clientAddress(req, this.trusted))) {
        this.context.metrics.refused.inc({ reason: 'rate-limited-webhook' });
        res.setHeader('retry-after', '1');
        req.resume();
        return sendError(res, 429, 'VW_ERR_RATE_LIMITED', 'too many requests from this address');
      }
      if (this.current !== 'serving') {
        // The carrier's fallback URL or the load balancer (retry-on 503) takes the call elsewhere.
        this.context.metrics.refused.inc({ reason: 'draining' });
        res.setHeader('connection', 'close');
        req.resume();
        return sendError(res, 503, 'VW_ERR_DRAINING', 'gateway is draining: new calls go to another replica');
      }
    }
    serveRoutes(routers, req, res, this.context.logger);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = requestUrl(req);
    const handler = this.context.router.findUpgrade(url.pathname);
    socket.on('error', this.onUpgradeSocketError);
    if (!handler) return rejectUpgrade(socket, 404, 'Not Found');
    const { metrics, calls } = this.context;
    if (!this.upgradeLimiter.take(clientAddress(req, this.trusted))) {
      metrics.refused.inc({ reason: 'rate-limited-upgrade' });
      return rejectUpgrade(socket, 429, 'Too Many Requests');
    }
    if (!this.context.accepting()) {
      metrics.refused.inc({ reason: this.current === 'serving' ? 'full' : 'draining' });
      return rejectUpgrade(socket, 503, 'Service Unavailable');
    }
    if (calls.pendingFull) {
      metrics.refused.inc({ reason: 'pending-full' });
      this.context.logger.warn({ code: 'VW_ERR_PENDING_FULL', pending: calls.pendingSize }, 'upgrade refused: too many sockets waiting for their start');
      return rejectUpgrade(socket, 503, 'Service Unavailable');
    }
    Promise.resolve(handler(req, socket, head, url)).catch((err: unknown) => {
      this.context.logger.error({ err, path: url.pathname }, 'upgrade failed');
      rejectUpgrade(socket, 500, 'Internal Server Error');
    });
  }

  async listen(port = this.context.config.port, host = this.context.config.host): Promise<AddressInfo> {
    const adminPort = this.context.config.fleet.adminPort;
    if (this.adminServer && adminPort !== undefined) await listenOn(this.adminServer, adminPort, host);
    return listenOn(this.server, port, host);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The admin listener's port (undefined without ADMIN_PORT). */
  get adminPort(): number | undefined {
    return this.adminServer ? (this.adminServer.address() as AddressInfo).port : undefined;
  }

  /**
   * SIGTERM: stops taking calls at once (/readyz 503, webhooks and upgrades 503), lets live calls
   * go on for up to `timeoutMs` (DRAIN_TIMEOUT_MS), ends the rest with 1001, waits for their close
   * handshakes and closes the listeners. Calling it again returns the same drain.
   */
  drain(timeoutMs = this.context.config.fleet.drainTimeoutMs): Promise<DrainReport> {
    if (this.draining) return this.draining;
    this.current = 'draining';
    this.context.metrics.draining.set(1);
    const { calls, logger } = this.context;
    logger.info({ calls: calls.size, pending: calls.pendingSize, timeoutMs }, 'draining: no new calls, live calls go on');
    this.draining = drainCalls(calls, { timeoutMs, stop: this.stopController.signal, logger }).then(async (report) => {
      // The ended calls' last events (call.ended) go out before the process may exit (bounded).
      await this.context.agent?.close?.();
      await this.closeListeners();
      this.current = 'closed';
      if (report.endedByUs > 0) this.context.metrics.callsEndedByLimit.inc({ reason: report.outcome === 'stopped' ? 'stop' : 'drain-deadline' }, report.endedByUs);
      logger.info({ ...report }, 'drained');
      return report;
    });
    return this.draining;
  }

  /** A second signal: ends every call now (each still gets its close frame) and finishes the drain. */
  stopNow(): Promise<DrainReport> {
    const drain = this.drain();
    this.stopController.abort();
    return drain;
  }

  /** Ends every call at once and closes the server (tests; the process uses `drain`). */
  async close(): Promise<void> {
    await this.stopNow();
  }

  private async closeListeners(): Promise<void> {
    await closeSockets(this.context.wss, CLOSE_HANDSHAKE_MS);
    const listening = [this.server, this.adminServer].filter((server): server is Server => server?.listening === true);
    await Promise.all(listening.map(closeServer));
    // The ended calls' spans and the last metrics go out before the process stops.
    await this.context.telemetry.shutdown().catch((err: unknown) => this.context.logger.warn({ err }, 'telemetry shutdown failed'));
  }
}

function serveRoutes(routers: readonly Router[], req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const url = requestUrl(req);
  const method = req.method ?? 'GET';
  const handler = routers.map((r) => r.findHttp(method, url.pathname)).find((h) => h !== undefined);
  if (!handler) {
    const allowed = routers.flatMap((r) => r.methodsFor(url.pathname));
    if (allowed.length > 0) {
      res.setHeader('allow', allowed.join(', '));
      sendError(res, 405, 'VW_ERR_METHOD', `use ${allowed.join(' or ')}`);
    } else {
      sendError(res, 404, 'VW_ERR_NOT_FOUND', `no route for ${url.pathname}`);
    }
    return;
  }
  Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
    logger.error({ err, path: url.pathname }, 'route failed');
    if (!res.headersSent) sendError(res, 500, 'VW_ERR_INTERNAL', 'internal error');
    else res.destroy();
  });
}

async function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/** Stops listening; idle keep-alive connections close now, busy ones once their response is out. */
async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), CLOSE_HANDSHAKE_MS);
  await closed;
  clearTimeout(timer);
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
