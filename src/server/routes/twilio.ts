/**
 * Twilio: `POST /twilio/voice` answers TwiML that connects the call to our Media Stream, and the
 * `/twilio/media` WebSocket carries the call. With TWILIO_AUTH_TOKEN set, both must carry a valid
 * X-Twilio-Signature (403 otherwise, before any 101).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { GatewayContext } from '../gateway.js';
import { rejectUpgrade } from '../gateway.js';
import { BodyTooLargeError, header, parseForm, readBody, sendError, sendText } from '../http-util.js';
import { validateSignature, validateStreamSignature, expectedStreamUrl } from '../../transports/twilio/signature.js';
import { streamTwiml, pickCallParameters, TWIML_CONTENT_TYPE } from '../../transports/twilio/twiml.js';
import { TwilioTransport } from '../../transports/twilio/adapter.js';
import { startCall } from './start-call.js';
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
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendError(res, 413, err.code, err.message);
      throw err;
    }
    const form = parseForm(body);
    const token = ctx.config.twilioAuthToken;
    if (token !== undefined) {
      const url = webhookUrl(ctx, req);
      if (url === undefined || !validateSignature(token, header(req, 'x-twilio-signature'), url, form)) {
        ctx.metrics.badInputs.inc({ source: 'twilio-webhook', code: 'VW_ERR_BAD_SIGNATURE' });
        log.warn({ code: 'VW_ERR_BAD_SIGNATURE', url }, 'webhook rejected: missing or invalid X-Twilio-Signature');
        return sendError(res, 403, 'VW_ERR_BAD_SIGNATURE', 'missing or invalid X-Twilio-Signature');
      }
    }
    const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), TWILIO_MEDIA_PATH);
    if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
    const fields: Record<string, string> = {};
    for (const [name, values] of form) if (values[0] !== undefined) fields[name] = values[0];
    log.info({ callSid: fields.CallSid, from: fields.From }, 'incoming call');
    sendText(res, 200, streamTwiml({ streamUrl, parameters: pickCallParameters(fields) }), TWIML_CONTENT_TYPE);
  });

  ctx.router.upgrade(TWILIO_MEDIA_PATH, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const token = ctx.config.twilioAuthToken;
    if (token !== undefined) {
      const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), TWILIO_MEDIA_PATH);
      if (streamUrl === undefined || !validateStreamSignature(token, header(req, 'x-twilio-signature'), streamUrl)) {
        ctx.metrics.badInputs.inc({ source: 'twilio-upgrade', code: 'VW_ERR_BAD_SIGNATURE' });
        log.warn({ code: 'VW_ERR_BAD_SIGNATURE', streamUrl }, 'media stream upgrade rejected: missing or invalid X-Twilio-Signature');
        rejectUpgrade(socket, 403, 'Forbidden');
        return;
      }
    }
    ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const callLog = ctx.logger.child({ transport: 'twilio' });
      const transport = new TwilioTransport(ws, { logger: callLog, startTimeoutMs: ctx.config.fleet.startTimeoutMs });
      startCall(ctx, { ws, transport, transportName: 'twilio', logger: callLog, ...(transfer ? { transfer } : {}) });
    });
  });
}
