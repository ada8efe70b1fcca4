/**
 * Transfers a live Twilio call by updating it through the REST API
 * (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
 * `POST {api}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with the form field
 * `Twiml=<Response><Dial>…</Dial></Response>` and HTTP basic auth AccountSid:AuthToken. Twilio
 * then leaves our `<Connect><Stream>` (it sends `stop` and closes the stream) and runs the new TwiML.
 */
import { escapeXmlAttribute } from '../transports/twilio/twiml.js';
import { isDialTarget } from './call-setup.js';
import { post } from './http-post.js';

export interface TwilioRestOptions {
  /** Base URL, `https://api.twilio.com` (tests point it at a fake). */
  readonly apiUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  /** Deadline of the REST request (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** The TwiML that dials `to`: a number, or a SIP URI inside `<Sip>`. */
export function dialTwiml(to: string): string {
  const target = escapeXmlAttribute(to);
  const noun = to.startsWith('sip:') || to.startsWith('sips:') ? `<Sip>${target}</Sip>` : target;
  return `<Response><Dial>${noun}</Dial></Response>`;
}

export function callUpdateUrl(apiUrl: string, accountSid: string, callSid: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Calls/${encodeURIComponent(callSid)}.json`;
}

/** Redirects call `callSid` to dial `to`; resolves with the outcome, never rejects. */
export async function transferTwilioCall(
  options: TwilioRestOptions,
  callSid: string,
  to: string,
  signal: AbortSignal,
): Promise<{ readonly ok: true } | { readonly ok: false; readonly detail: string }> {
  if (!isDialTarget(to)) return { ok: false, detail: 'not a dial target' };
  if (!/^CA[0-9a-fA-F]{32}$/.test(callSid)) return { ok: false, detail: 'not a Twilio CallSid' };
  const credentials = Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64');
  const outcome = await post(callUpdateUrl(options.apiUrl, options.accountSid, callSid), {
    body: new URLSearchParams({ Twiml: dialTwiml(to) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
    headers: { authorization: `Basic ${credentials}`, accept: 'application/json' },
    timeoutMs: options.timeoutMs ?? 5_000,
    signal,
  });
  return outcome.ok ? { ok: true } : { ok: false, detail: `${outcome.failure}: ${outcome.detail}` };
}
