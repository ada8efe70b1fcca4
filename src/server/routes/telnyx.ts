/**
 * Telnyx (TeXML): `POST /telnyx/voice` answers TeXML that connects the call to a bidirectional
 * RTP media stream (`<Connect><Stream bidirectionalMode="rtp" bidirectionalCodec="PCMU">`), and
 * the `/telnyx/media` WebSocket carries the call. With TELNYX_PUBLIC_KEY set the webhook must
 * carry a valid Ed25519 signature (telnyx-signature-ed25519 over telnyx-timestamp|body); with
 * TELNYX_STREAM_TOKEN set the upgrade must carry it in x-telnyx-streaming-auth-token. 403 otherwise.
 */
import type { GatewayContext } from '../gateway.js';
import { header, parseForm, sendError, sendText } from '../http-util.js';
import { expectedStreamUrl } from '../../transports/twilio/signature.js';
import { pickCallParameters, streamTwiml, TWIML_CONTENT_TYPE } from '../../transports/twilio/twiml.js';
import { TelnyxTransport } from '../../transports/telnyx/adapter.js';
import { TELNYX_SIGNATURE_HEADER, TELNYX_TIMESTAMP_HEADER, telnyxPublicKey, verifyTelnyxSignature } from '../../transports/telnyx/signature.js';
import { firstValues, readWebhookBody, refuseWebhook, registerMediaUpgrade, sameSecret } from './media-stream-route.js';

export const TELNYX_VOICE_PATH = '/telnyx/voice';
export const TELNYX_MEDIA_PATH = '/telnyx/media';
export const TELNYX_STREAM_TOKEN_HEADER = 'x-telnyx-streaming-auth-token';

/** TeXML's default bidirectional mode is mp3 (files, 1 message/s): RTP is what carries live audio. */
const STREAM_ATTRIBUTES = { bidirectionalMode: 'rtp', bidirectionalCodec: 'PCMU' } as const;

export function telnyxRoutes(ctx: GatewayContext): void {
  const log = ctx.logger.child({ route: 'telnyx' });
  const { telnyxPublicKey: keyText, telnyxStreamToken } = ctx.config.carriers;
  const key = keyText === undefined ? undefined : telnyxPublicKey(keyText);

  ctx.router.add('POST', TELNYX_VOICE_PATH, async (req, res) => {
    const body = await readWebhookBody(req, res);
    if (body === undefined) return;
    if (key !== undefined) {
      const valid = verifyTelnyxSignature({
        key,
        signature: header(req, TELNYX_SIGNATURE_HEADER),
        timestamp: header(req, TELNYX_TIMESTAMP_HEADER),
        rawBody: body,
        nowS: Math.floor(Date.now() / 1000),
      });
      if (!valid) return refuseWebhook(ctx, res, 'telnyx-webhook', `missing, stale or invalid ${TELNYX_SIGNATURE_HEADER}`);
    }
    const streamUrl = expectedStreamUrl(ctx.config.publicUrl, header(req, 'host'), TELNYX_MEDIA_PATH);
    if (streamUrl === undefined) return sendError(res, 400, 'VW_ERR_BAD_FIELD', 'cannot build the stream URL: set PUBLIC_URL or send a valid Host header');
    const fields = firstValues(parseForm(body));
    log.info({ callSid: fields['CallSid'], from: fields['From'] }, 'incoming call');
    sendText(res, 200, streamTwiml({ streamUrl, parameters: pickCallParameters(fields), streamAttributes: STREAM_ATTRIBUTES }), TWIML_CONTENT_TYPE);
  });

  registerMediaUpgrade(ctx, {
    path: TELNYX_MEDIA_PATH,
    name: 'telnyx',
    refuse: (req) =>
      telnyxStreamToken === undefined || sameSecret(telnyxStreamToken, header(req, TELNYX_STREAM_TOKEN_HEADER))
        ? undefined
        : `missing or wrong ${TELNYX_STREAM_TOKEN_HEADER}`,
    create: (ws, logger) => new TelnyxTransport(ws, { logger, startTimeoutMs: ctx.config.fleet.startTimeoutMs }),
  });
}
