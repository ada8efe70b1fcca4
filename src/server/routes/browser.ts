/**
 * Browsers: `POST /session` hands out a short-lived, single-use signed token; the `/browser`
 * WebSocket upgrade needs it (401 otherwise) and an allowed Origin (403 otherwise). The session's
 * figures are pushed to the page as `stats` so the demo can show them.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { GatewayContext } from '../gateway.js';
import { rejectUpgrade } from '../gateway.js';
import { header, sendError, sendJson } from '../http-util.js';
import { SessionTokens } from '../session-token.js';
import { BrowserTransport } from '../../transports/browser/adapter.js';
import type { ConversationState } from '../../transports/browser/messages.js';
import type { SessionObserver } from '../../session/observer.js';
import { startCall } from './start-call.js';
import { browserTransfer } from '../agent-services.js';
import { isVoicewireError } from '../../errors.js';

export const BROWSER_PATH = '/browser';
export const SESSION_PATH = '/session';
/** The server pings the page for RTT every this many stats samples (samples are 500 ms apart). */
const PING_EVERY_SAMPLES = 4;

/**
 * Same-origin by default: an Origin whose host is the request's Host. ALLOWED_ORIGINS adds others.
 * A request with no Origin (not a browser: curl, tests) is allowed; browsers always send one.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The `wsUrl` handed out with a token: absolute (wss://public-host/browser) when PUBLIC_URL is
 * set, so a page on another origin can use it as is; otherwise the path, which the SDK resolves
 * against the URL it POSTed to (not the page).
 */
export function browserSocketUrl(publicUrl: string | undefined): string {
  if (publicUrl === undefined) return BROWSER_PATH;
  const url = new URL(BROWSER_PATH, `${publicUrl}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function setCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'Origin');
}

export function browserRoutes(ctx: GatewayContext): void {
  const log = ctx.logger.child({ route: 'browser' });
  const tokens = new SessionTokens({
    secret: ctx.config.sessionSecret ?? randomBytes(32),
    ttlMs: ctx.config.sessionTokenTtlMs,
  });

  const wsUrl = browserSocketUrl(ctx.config.publicUrl);
  // CORS preflight: a page on another allowed origin POSTs here with a JSON Accept/Content-Type.
  ctx.router.add('OPTIONS', SESSION_PATH, (req, res) => {
    req.resume();
    const origin = header(req, 'origin');
    if (origin === undefined || !ctx.config.allowedOrigins.includes(origin)) {
      return sendError(res, 403, 'VW_ERR_ORIGIN', `origin ${origin ?? ''} is not allowed`);
    }
    setCorsHeaders(res, origin);
    res.setHeader('access-control-allow-methods', 'POST');
    res.setHeader('access-control-allow-headers', 'accept, content-type');
    res.setHeader('access-control-max-age', '600');
    res.writeHead(204).end();
  });

  ctx.router.add('POST', SESSION_PATH, (req, res) => {
    const origin = header(req, 'origin');
    if (!originAllowed(origin, header(req, 'host'), ctx.config.allowedOrigins)) {
      log.warn({ origin, code: 'VW_ERR_ORIGIN' }, 'session refused: origin not allowed');
      return sendError(res, 403, 'VW_ERR_ORIGIN', `origin ${origin ?? ''} is not allowed`);
    }
    if (origin !== undefined && ctx.config.allowedOrigins.includes(origin)) setCorsHeaders(res, origin);
    req.resume(); // the body carries nothing we need; drain it
    try {
      const minted = tokens.mint();
      sendJson(res, 200, { token: minted.token, expiresAt: minted.expiresAt, wsUrl });
    } catch (err) {
      if (isVoicewireError(err)) return sendError(res, 503, err.code, err.message);
      throw err;
    }
  });

  ctx.router.upgrade(BROWSER_PATH, (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    const origin = header(req, 'origin');
    if (!originAllowed(origin, header(req, 'host'), ctx.config.allowedOrigins)) {
      ctx.metrics.badInputs.inc({ source: 'browser-upgrade', code: 'VW_ERR_ORIGIN' });
      log.warn({ origin, code: 'VW_ERR_ORIGIN' }, 'browser upgrade refused: origin not allowed');
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    const result = tokens.consume(url.searchParams.get('token') ?? '');
    if (!result.ok) {
      ctx.metrics.badInputs.inc({ source: 'browser-upgrade', code: result.error.code });
      log.warn({ reason: result.reason, code: result.error.code }, 'browser upgrade refused: bad session token');
      rejectUpgrade(socket, 401, 'Unauthorized');
      return;
    }
    ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const callLog = ctx.logger.child({ transport: 'browser' });
      const transport = new BrowserTransport(ws, {
        logger: callLog,
        defaultWindowMs: ctx.config.creditWindowMs,
        heartbeatMs: ctx.config.heartbeatMs,
        ...(origin ? { parameters: { origin } } : {}),
      });
      let samples = 0;
      let lastBargeInMs: number | undefined;
      let lastState: ConversationState | undefined;
      const observer: SessionObserver = {
        sample(s) {
          transport.sendStats({
            creditMs: Math.round(s.creditMs),
            windowMs: s.windowMs,
            serverBufferedMs: Math.round(s.queuedMs),
            inFlightMs: Math.round(s.callerBufferedMs),
            ...(lastBargeInMs === undefined ? {} : { lastBargeInMs }),
          });
          if (++samples % PING_EVERY_SAMPLES === 0) transport.ping();
          // The page's status line: the agent is speaking while audio is queued or unplayed.
          const state: ConversationState = s.callerBufferedMs > 0 || s.queuedMs > 0 ? 'speaking' : 'listening';
          if (state !== lastState) {
            lastState = state;
            transport.sendState(state);
          }
        },
        silenced(report) {
          lastBargeInMs = Math.round(report.bargeInToSilenceMs * 10) / 10;
        },
        transcript(_id, text) {
          transport.sendTranscript('assistant', text, false);
        },
      };
      startCall(ctx, { ws, transport, transportName: 'browser', logger: callLog, observer, transfer: browserTransfer(transport) });
    });
  });
}
