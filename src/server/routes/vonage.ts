/**
 * Vonage: `GET` (or `POST`) `/vonage/answer` answers an NCCO that connects the call to our media
 * WebSocket, and `/vonage/media` carries the call. With VONAGE_SIGNATURE_SECRET set, the answer
 * webhook must carry a valid signed JWT (Authorization: Bearer, HS256, payload_hash) and the media
 * upgrade the grant the answer put in its URL (403 otherwise, before any 101).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { header, sendError, sendText } from '../http-util.js';
import { isObject } from '../../transports/media-stream/json-fields.js';
import { expectedStreamUrl } from '../../transports/twilio/signature.js';
import { queryPayload, verifySignedWebhook } from '../../transports/vonage/signed-webhook.js';
import { NCCO_CONTENT_TYPE, mediaGrantQuery, pickVonageHeaders, verifyMediaGrant, websocketNcco } from '../../transports/vonage/ncco.js';
import { VonageTransport } from '../../transports/vonage/adapter.js';
import { readWebhookBody, refuseWebhook, registerMediaUpgrade } from './media-stream-route.js';

export const VONAGE_ANSWER_PATH = '/vonage/answer';
export const VONAGE_MEDIA_PATH = '/vonage/media';

/** The webhook's fields: the query of a GET, the JSON body of a POST (Vonage posts JSON). */
function fieldsOf(method: 'GET' | 'POST', url: URL, body: string): Record<string, unknown> | undefined {
  if (method === 'GET') return Object.fromEntries(url.searchParams);
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function answer(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, url: URL, method: 'GET' | 'POST'): Promise<void> {
  const body = method === 'POST' ? await readWebhookBody(req, res) : '';
  if (body === undefined) return;
  const secret = ctx.config.carriers.vonageSignatureSecret;
  if (secret !== undefined) {
    const payload = method === 'GET' ? queryPayload(url.searchParams) : body;
    const check = verifySignedWebhook(header(req, 'authorization'), secret, payload);
    if (!check.ok) return refuseWebhook(ctx, res, 'vonage-webhook', 'missing or invalid Vonage signed webhook JWT', { reason: check.reason });
  }
  const fields = fieldsOf(method, url, body);
  if (fields === undefined) return sendError(res, 400, 'VW_ERR_BAD_JSON', 'the webhook body is not a JSON object');
  const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), VONAGE_MEDIA_PATH);
  if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
  const headers = pickVonageHeaders(fields);
  const call = headers['uuid'] ?? 'unknown';
  const uri = secret === undefined ? streamUrl : streamUrl + mediaGrantQuery(secret, call, Date.now() / 1000);
  ctx.logger.info({ route: 'vonage', callUuid: headers['uuid'], from: headers['from'] }, 'incoming call');
  sendText(res, 200, JSON.stringify(websocketNcco(uri, ctx.config.carriers.vonageAudioRate, headers)), NCCO_CONTENT_TYPE);
}

export function vonageRoutes(ctx: GatewayContext): void {
  ctx.router.add('GET', VONAGE_ANSWER_PATH, (req, res, url) => answer(ctx, req, res, url, 'GET'), { kind: 'call' });
  ctx.router.add('POST', VONAGE_ANSWER_PATH, (req, res, url) => answer(ctx, req, res, url, 'POST'));

  registerMediaUpgrade(ctx, {
    path: VONAGE_MEDIA_PATH,
    name: 'vonage',
    refuse: (_req, url) => {
      const secret = ctx.config.carriers.vonageSignatureSecret;
      return secret === undefined || verifyMediaGrant(secret, url.searchParams, Date.now() / 1000) ? undefined : 'missing, expired or invalid grant';
    },
    create: (ws, logger) => new VonageTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
  });
}
