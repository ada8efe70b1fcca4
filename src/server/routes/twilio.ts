/**
 * Twilio: `POST /twilio/voice` answers TwiML that connects the call to our Media Stream, and the
 * `/twilio/media` WebSocket carries the call. With TWILIO_AUTH_TOKEN set, both must carry a valid
 * X-Twilio-Signature (403 otherwise, before any 101).
 */
import type { IncomingMessage } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { header, parseForm, sendError, sendText } from '../http-util.js';
import { validateSignature, validateStreamSignature, expectedStreamUrl } from '../../transports/twilio/signature.js';
import { streamTwiml, pickCallParameters, TWIML_CONTENT_TYPE } from '../../transports/twilio/twiml.js';
import { TwilioTransport } from '../../transports/twilio/adapter.js';
import { firstValues, readWebhookBody, refuseWebhook, registerMediaUpgrade } from './media-stream-route.js';
import { twilioTransfer } from '../agent-services.js';

export const TWILIO_VOICE_PATH = '/twilio/voice';
export const TWILIO_MEDIA_PATH = '/twilio/media';

/** The URL Twilio requested, as it signed it: the public base (or https://Host) plus path and query. */
export function webhookUrl(ctx: GatewayContext, req: IncomingMessage): string | undefined {
  const base = ctx.config.publicUrl ?? (header(req, 'host') ? `https://${header(req, 'host')}` : undefined);
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}${req.url ?? ''}`;
}

export function twilioRoutes(ctx: GatewayContext): void {
  const log = ctx.logger.child({ route: 'twilio' });
  const transfer = twilioTransfer(ctx.config);

  ctx.router.add('POST', TWILIO_VOICE_PATH, async (req, res) => {
    const body = await readWebhookBody(req, res);
    if (body === undefined) return;
    const form = parseForm(body);
    const token = ctx.config.twilioAuthToken;
    if (token !== undefined) {
      const url = webhookUrl(ctx, req);
      if (url === undefined || !validateSignature(token, header(req, 'x-twilio-signature'), url, form)) {
        return refuseWebhook(ctx, res, 'twilio-webhook', 'missing or invalid X-Twilio-Signature', { url });
      }
    }
    const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), TWILIO_MEDIA_PATH);
    if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
    const fields = firstValues(form);
    log.info({ callSid: fields.CallSid, from: fields.From }, 'incoming call');
    sendText(res, 200, streamTwiml({ streamUrl, parameters: pickCallParameters(fields) }), TWIML_CONTENT_TYPE);
  });

  registerMediaUpgrade(ctx, {
    path: TWILIO_MEDIA_PATH,
    name: 'twilio',
    refuse: (req) => {
      const token = ctx.config.twilioAuthToken;
      if (token === undefined) return undefined;
      const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), TWILIO_MEDIA_PATH);
      const valid = streamUrl !== undefined && validateStreamSignature(token, header(req, 'x-twilio-signature'), streamUrl);
      return valid ? undefined : `missing or invalid X-Twilio-Signature (signed URL expected: ${streamUrl ?? 'none: no PUBLIC_URL or Host'})`;
    },
    create: (ws, logger) => new TwilioTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
    ...(transfer ? { transfer } : {}),
  });
}
