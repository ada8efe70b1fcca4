/**
 * Plivo: `POST` (or `GET`) `/plivo/answer` answers Plivo XML that connects the call to our audio
 * stream, and the `/plivo/media` WebSocket carries the call. With PLIVO_AUTH_TOKEN set, the answer
 * webhook and the stream upgrade must carry a valid X-Plivo-Signature-V3 (403 otherwise, before
 * any 101).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { header, parseForm, sendError, sendText } from '../http-util.js';
import { expectedStreamUrl } from '../../transports/twilio/signature.js';
import { validatePlivoSignature } from '../../transports/plivo/signature.js';
import { PLIVO_XML_CONTENT_TYPE, pickPlivoParameters, plivoStreamXml } from '../../transports/plivo/answer-xml.js';
import { PlivoTransport } from '../../transports/plivo/adapter.js';
import { firstValues, readWebhookBody, refuseWebhook, registerMediaUpgrade } from './media-stream-route.js';

export const PLIVO_ANSWER_PATH = '/plivo/answer';
export const PLIVO_MEDIA_PATH = '/plivo/media';

const SIGNATURE_HEADER = 'x-plivo-signature-v3';
const NONCE_HEADER = 'x-plivo-signature-v3-nonce';

/** The public base (PUBLIC_URL, or https://Host) without a trailing slash. */
function publicBase(ctx: GatewayContext, req: IncomingMessage): string | undefined {
  const host = header(req, 'host');
  const base = ctx.config.publicUrl ?? (host ? `https://${host}` : undefined);
  return base?.replace(/\/+$/, '');
}

/**
 * The URLs the upgrade may have been signed for: the `wss://` URL Plivo connected to, and its
 * `https://` form (Plivo's stream SDK rebuilds the URL with an http(s) scheme). Behind TLS
 * termination set PUBLIC_URL.
 */
function upgradeUrls(ctx: GatewayContext, req: IncomingMessage): string[] {
  const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), PLIVO_MEDIA_PATH);
  if (streamUrl === undefined) return [];
  const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
  const wss = streamUrl + query;
  return [wss, wss.replace(/^wss:/, 'https:').replace(/^ws:/, 'http:')];
}

const SIGNATURE_PROBLEM = 'missing or invalid X-Plivo-Signature-V3';

async function answer(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): Promise<void> {
  const body = method === 'POST' ? await readWebhookBody(req, res) : '';
  if (body === undefined) return;
  const form = parseForm(body);
  const base = publicBase(ctx, req);
  const url = base === undefined ? undefined : base + (req.url ?? '');
  const token = ctx.config.carriers.plivoAuthToken;
  if (token !== undefined) {
    const valid = url !== undefined && validatePlivoSignature(token, header(req, SIGNATURE_HEADER), header(req, NONCE_HEADER), method, [url], form);
    if (!valid) return refuseWebhook(ctx, res, 'plivo-webhook', SIGNATURE_PROBLEM, { url });
  }
  const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), PLIVO_MEDIA_PATH);
  if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
  const fields = firstValues(method === 'POST' ? form : parseForm(new URL(req.url ?? '/', 'http://x').search.slice(1)));
  ctx.logger.info({ route: 'plivo', callUuid: fields.CallUUID, from: fields.From }, 'incoming call');
  sendText(res, 200, plivoStreamXml(streamUrl, pickPlivoParameters(fields)), PLIVO_XML_CONTENT_TYPE);
}

export function plivoRoutes(ctx: GatewayContext): void {
  ctx.router.add('POST', PLIVO_ANSWER_PATH, (req, res) => answer(ctx, req, res, 'POST'));
  ctx.router.add('GET', PLIVO_ANSWER_PATH, (req, res) => answer(ctx, req, res, 'GET'), { kind: 'call' });

  registerMediaUpgrade(ctx, {
    path: PLIVO_MEDIA_PATH,
    name: 'plivo',
    refuse: (req) => {
      const token = ctx.config.carriers.plivoAuthToken;
      if (token === undefined) return undefined;
      const urls = upgradeUrls(ctx, req);
      const valid = validatePlivoSignature(token, header(req, SIGNATURE_HEADER), header(req, NONCE_HEADER), 'GET', urls);
      return valid ? undefined : `${SIGNATURE_PROBLEM} (signed URL expected: ${urls[0] ?? 'none: no PUBLIC_URL or Host'})`;
    },
    create: (ws, logger) => new PlivoTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
  });
}
