/**
 * A fake of Twilio's REST API for one operation, updating a live call
 * (https://www.twilio.com/docs/voice/api/call-resource#update-a-call-resource):
 * `POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json`, form-encoded, HTTP basic auth
 * AccountSid:AuthToken. Wrong credentials get Twilio's 401 error 20003, a call it does not know
 * 404 error 20404, a missing `Twiml`/`Url` 400 error 21205 ("Url parameter is required"); success
 * is 200 with the call resource. `onUpdate` lets a test do what Twilio does next (end the stream).
 */
import { FakeHttpEndpoint, type RecordedRequest, type Reply } from './http-endpoint.js';

export interface CallUpdate {
  readonly at: number;
  readonly callSid: string;
  readonly twiml: string;
}

const PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Calls\/(CA[0-9a-fA-F]{32})\.json$/;

function twilioError(status: number, code: number, message: string): Reply {
  return { status, json: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

export class FakeTwilioRest {
  readonly updates: CallUpdate[] = [];
  /** Calls the fake knows (their updates succeed); others get 404. */
  readonly liveCalls = new Set<string>();

  private constructor(
    readonly endpoint: FakeHttpEndpoint,
    readonly accountSid: string,
    private readonly authToken: string,
    private readonly onUpdate: (update: CallUpdate) => void,
  ) {}

  static async start(options: { accountSid: string; authToken: string; onUpdate?: (update: CallUpdate) => void }): Promise<FakeTwilioRest> {
    const holder: { fake?: FakeTwilioRest } = {};
    const endpoint = await FakeHttpEndpoint.start((request) => holder.fake!.handle(request));
    holder.fake = new FakeTwilioRest(endpoint, options.accountSid, options.authToken, options.onUpdate ?? (() => undefined));
    return holder.fake;
  }

  /** The base URL (TWILIO_API_URL). */
  get url(): string {
    return this.endpoint.url('').replace(/\/$/, '');
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  private handle(request: RecordedRequest): Reply {
    const match = PATH.exec(request.path);
    if (request.method !== 'POST' || match === null) return twilioError(404, 20404, 'The requested resource was not found');
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (match[1] !== this.accountSid || request.headers.authorization !== expected) return twilioError(401, 20003, 'Authenticate');
    const callSid = match[2]!;
    if (!this.liveCalls.has(callSid)) return twilioError(404, 20404, `The requested resource /2010-04-01/Accounts/${this.accountSid}/Calls/${callSid}.json was not found`);
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return twilioError(400, 21205, 'Url parameter is required.');
    const twiml = new URLSearchParams(request.body).get('Twiml');
    if (twiml === null || twiml === '') return twilioError(400, 21205, 'Url parameter is required.');
    const update = { at: request.at, callSid, twiml };
    this.updates.push(update);
    this.onUpdate(update);
    return {
      status: 200,
      json: {
        sid: callSid, account_sid: this.accountSid, status: 'in-progress', api_version: '2010-04-01',
        uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${callSid}.json`,
      },
    };
  }
}
