/**
 * What the carrier routes of the media-stream family share: reading a webhook body (413 past
 * the bound), refusing a request that fails the carrier's check (403, counted and logged with
 * VW_ERR_BAD_SIGNATURE), and the media WebSocket upgrade that wraps the socket in the carrier's
 * transport and starts a call. Each carrier's file keeps only what is its own: the answer
 * document and how it authenticates.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { GatewayContext } from '../gateway.js';
import { rejectUpgrade } from '../gateway.js';
import { BodyTooLargeError, readBody, sendError } from '../http-util.js';
import type { CallerTransport } from '../../transports/transport.js';
import { startCall, type StartCallOptions } from './start-call.js';

/** The raw body, or undefined when a 413 was already sent. */
export async function readWebhookBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
  try {
    return await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      sendError(res, 413, err.code, err.message);
      return undefined;
    }
    throw err;
  }
}

/**
 * Answers 403 VW_ERR_BAD_SIGNATURE with `why`, counts it as bad input of `source` and logs why, with
 * `detail` (the URL the signature was checked against, a JWT's reason) in the log line only.
 */
export function refuseWebhook(ctx: GatewayContext, res: ServerResponse, source: string, why: string, detail: Readonly<Record<string, unknown>> = {}): void {
  ctx.metrics.badInputs.inc({ source, code: 'VW_ERR_BAD_SIGNATURE' });
  ctx.logger.warn({ ...detail, code: 'VW_ERR_BAD_SIGNATURE', source }, `webhook rejected: ${why}`);
  sendError(res, 403, 'VW_ERR_BAD_SIGNATURE', why);
}

export interface MediaUpgradeOptions {
  readonly path: string;
  /** Transport name in metrics and logs ('telnyx'). */
  readonly name: string;
  /** Why the upgrade must be refused (403), or undefined to accept it; `url` is the request's, parsed. */
  readonly refuse?: (req: IncomingMessage, url: URL) => string | undefined;
  readonly create: (ws: WebSocket, logger: Logger) => CallerTransport;
  /** How the agent's `transfer_call` moves this carrier's call, when it can. */
  readonly transfer?: StartCallOptions['transfer'];
}

/** Registers the media WebSocket: checked before any 101, then one call per socket. */
export function registerMediaUpgrade(ctx: GatewayContext, options: MediaUpgradeOptions): void {
  ctx.router.upgrade(options.path, (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    const why = options.refuse?.(req, url);
    if (why !== undefined) {
      ctx.metrics.badInputs.inc({ source: `${options.name}-upgrade`, code: 'VW_ERR_BAD_SIGNATURE' });
      ctx.logger.warn({ code: 'VW_ERR_BAD_SIGNATURE', transport: options.name }, `media stream upgrade rejected: ${why}`);
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }
    ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const callLog = ctx.logger.child({ transport: options.name });
      const transfer = options.transfer === undefined ? {} : { transfer: options.transfer };
      startCall(ctx, { ws, transport: options.create(ws, callLog), transportName: options.name, logger: callLog, ...transfer });
    });
  });
}

/** Compares a configured secret with what the request carried, in constant time. */
export function sameSecret(expected: string, received: Uint8Array | string | undefined): boolean {
  if (received === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = typeof received === 'string' ? Buffer.from(received, 'utf8') : received;
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Request fields of a form webhook as name → first value. */
export function firstValues(form: ReadonlyMap<string, readonly string[]>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, values] of form) if (values[0] !== undefined) fields[name] = values[0];
  return fields;
}
