/** transferTwilioCall against the fake Twilio REST API: the exact request, and Twilio's refusals. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { dialTwiml, transferTwilioCall } from '../../src/agent/twilio-transfer.js';
import { FakeTwilioRest } from '../fakes/twilio-rest.js';

const accountSid = `AC${randomBytes(16).toString('hex')}`;
const callSid = `CA${randomBytes(16).toString('hex')}`;
const authToken = 'token-for-tests';
let rest: FakeTwilioRest;
before(async () => {
  rest = await FakeTwilioRest.start({ accountSid, authToken });
  rest.liveCalls.add(callSid);
});
after(() => rest.close());

const signal = (): AbortSignal => new AbortController().signal;

describe('dialTwiml', () => {
  test('a number is the Dial text; a SIP URI goes in <Sip>; XML specials are escaped', () => {
    assert.equal(dialTwiml('+15551230000'), '<Response><Dial>+15551230000</Dial></Response>');
    assert.equal(dialTwiml('sip:desk@pbx.example.com;transport=tls'), '<Response><Dial><Sip>sip:desk@pbx.example.com;transport=tls</Sip></Dial></Response>');
  });
});

describe('transferTwilioCall', () => {
  test('POSTs the form-encoded Twiml with basic auth to the call resource', async () => {
    const outcome = await transferTwilioCall({ apiUrl: rest.url, accountSid, authToken }, callSid, '+15551230000', signal());
    assert.deepEqual(outcome, { ok: true });
    const request = rest.endpoint.requests.at(-1)!;
    assert.equal(request.path, `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`);
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request.body, `Twiml=${encodeURIComponent('<Response><Dial>+15551230000</Dial></Response>').replace(/%20/g, '+')}`);
    assert.deepEqual(rest.updates.at(-1)!.twiml, '<Response><Dial>+15551230000</Dial></Response>');
  });

  test('wrong credentials (401 20003) and an unknown call (404 20404) are failures with the status', async () => {
    const unauthorized = await transferTwilioCall({ apiUrl: rest.url, accountSid, authToken: 'wrong' }, callSid, '+15551230000', signal());
    assert.equal(unauthorized.ok, false);
    assert.match(unauthorized.ok ? '' : unauthorized.detail, /^status: HTTP 401: .*20003/);
    const unknown = await transferTwilioCall({ apiUrl: rest.url, accountSid, authToken }, `CA${'0'.repeat(32)}`, '+15551230000', signal());
    assert.match(unknown.ok ? '' : unknown.detail, /^status: HTTP 404: .*20404/);
  });

  test('a target or CallSid that cannot be right is refused before any request', async () => {
    const before = rest.endpoint.requests.length;
    assert.deepEqual(await transferTwilioCall({ apiUrl: rest.url, accountSid, authToken }, callSid, '+1555</Dial>', signal()), { ok: false, detail: 'not a dial target' });
    assert.deepEqual(await transferTwilioCall({ apiUrl: rest.url, accountSid, authToken }, 'browser-1', '+15551230000', signal()), { ok: false, detail: 'not a Twilio CallSid' });
    assert.equal(rest.endpoint.requests.length, before);
  });
});
