/**
 * Exotel (AgentStream, Voicebot applet): the applet is configured with our WebSocket URL
 * (`wss://<host>/exotel/media`), or with `https://<host>/exotel/url`, which answers that URL
 * (GET or HEAD, `text/plain` as Exotel's URL-returning applets expect; JSON `{"url"}` when asked
 * with `Accept: application/json`). `/exotel/media` carries the call. With EXOTEL_BASIC_AUTH set
 * (`key:token`, written into the applet URL as `wss://key:token@host/exotel/media`, which Exotel
 * sends as `Authorization: Basic`), the upgrade needs those credentials: 403 otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { header, sendError, sendJson, sendText } from '../http-util.js';
import { expectedStreamUrl } from '../../transports/twilio/signature.js';
import { ExotelTransport } from '../../transports/exotel/adapter.js';
import { registerMediaUpgrade, sameSecret } from './media-stream-route.js';

export const EXOTEL_URL_PATH = '/exotel/url';
export const EXOTEL_MEDIA_PATH = '/exotel/media';

function basicMatches(expected: string, authorization: string | undefined): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization ?? '');
  return sameSecret(expected, match?.[1] === undefined ? undefined : Buffer.from(match[1], 'base64'));
}

export function exotelRoutes(ctx: GatewayContext): void {
  const { exotelBasicAuth } = ctx.config.carriers;

  const answerUrl = (req: IncomingMessage, res: ServerResponse): void => {
    const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), EXOTEL_MEDIA_PATH);
    if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
    if ((header(req, 'accept') ?? '').includes('application/json')) return sendJson(res, 200, { url: streamUrl });
    sendText(res, 200, streamUrl, 'text/plain');
  };
  ctx.router.add('GET', EXOTEL_URL_PATH, answerUrl, { kind: 'call' });
  ctx.router.add('HEAD', EXOTEL_URL_PATH, answerUrl, { kind: 'call' });

  registerMediaUpgrade(ctx, {
    path: EXOTEL_MEDIA_PATH,
    name: 'exotel',
    refuse: (req) => (exotelBasicAuth === undefined || basicMatches(exotelBasicAuth, header(req, 'authorization')) ? undefined : 'missing or wrong Authorization: Basic credentials'),
    create: (ws, logger) => new ExotelTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
  });
}
