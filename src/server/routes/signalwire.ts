/**
 * SignalWire (cXML, Compatibility API): `POST /signalwire/voice` answers cXML that connects the
 * call to our media stream (`<Connect><Stream>`, Twilio-compatible), and `/signalwire/media`
 * carries the call. With SIGNALWIRE_SIGNING_KEY set the webhook must carry a valid
 * X-SignalWire-Signature; with SIGNALWIRE_STREAM_TOKEN set the cXML asks SignalWire to present it
 * (`authBearerToken`) and the upgrade must carry `Authorization: Bearer <token>`. 403 otherwise.
 */
import type { GatewayContext } from '../gateway.js';
import { header, parseForm, sendError, sendText } from '../http-util.js';
import { expectedStreamUrl } from '../../transports/twilio/signature.js';
import { pickCallParameters, streamTwiml, TWIML_CONTENT_TYPE } from '../../transports/twilio/twiml.js';
import { SignalWireTransport } from '../../transports/signalwire/adapter.js';
import { SIGNALWIRE_COMPAT_SIGNATURE_HEADER, SIGNALWIRE_SIGNATURE_HEADER, validateSignalWireSignature } from '../../transports/signalwire/signature.js';
import { firstValues, readWebhookBody, refuseWebhook, registerMediaUpgrade, sameSecret } from './media-stream-route.js';
import { webhookUrl } from './twilio.js';

export const SIGNALWIRE_VOICE_PATH = '/signalwire/voice';
export const SIGNALWIRE_MEDIA_PATH = '/signalwire/media';

function bearerMatches(expected: string, authorization: string | undefined): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  return sameSecret(expected, match?.[1]);
}

export function signalwireRoutes(ctx: GatewayContext): void {
  const log = ctx.logger.child({ route: 'signalwire' });
  const { signalwireSigningKey: key, signalwireStreamToken: streamToken } = ctx.config.carriers;

  ctx.router.add('POST', SIGNALWIRE_VOICE_PATH, async (req, res) => {
    const body = await readWebhookBody(req, res);
    if (body === undefined) return;
    const form = parseForm(body);
    if (key !== undefined) {
      const url = webhookUrl(ctx, req);
      const signature = header(req, SIGNALWIRE_SIGNATURE_HEADER) ?? header(req, SIGNALWIRE_COMPAT_SIGNATURE_HEADER);
      if (url === undefined || !validateSignalWireSignature(key, signature, url, form, body)) {
        return refuseWebhook(ctx, res, 'signalwire-webhook', 'missing or invalid X-SignalWire-Signature');
      }
    }
    const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), SIGNALWIRE_MEDIA_PATH);
    if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
    const fields = firstValues(form);
    log.info({ callSid: fields['CallSid'], from: fields['From'] }, 'incoming call');
    const streamAttributes: Record<string, string> = streamToken === undefined ? {} : { authBearerToken: streamToken };
    sendText(res, 200, streamTwiml({ streamUrl, parameters: pickCallParameters(fields), streamAttributes }), TWIML_CONTENT_TYPE);
  });

  registerMediaUpgrade(ctx, {
    path: SIGNALWIRE_MEDIA_PATH,
    name: 'signalwire',
    refuse: (req) => (streamToken === undefined || bearerMatches(streamToken, header(req, 'authorization')) ? undefined : 'missing or wrong Authorization: Bearer token'),
    create: (ws, logger) => new SignalWireTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
  });
}
