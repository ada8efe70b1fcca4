/** TelnyxTransport over a real socket with the fake Telnyx caller: what is Telnyx's own. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectTelnyxCaller } from '../../fakes/telnyx-caller.js';
import type { FakeTwilioCaller } from '../../fakes/twilio-caller.js';
import { TelnyxTransport } from '../../../src/transports/telnyx/adapter.js';
import { parseMarkName } from '../../../src/transports/twilio/marks.js';
import { rigOf, ulaw, type Recorder, type Rig } from '../twilio/helpers.js';

const rigs: Array<Rig<TelnyxTransport>> = [];
after(() => rigs.forEach((r) => r.close()));

async function connect(): Promise<{ transport: TelnyxTransport; recorder: Recorder; caller: FakeTwilioCaller }> {
  const r = await rigOf((ws, o) => new TelnyxTransport(ws, o));
  rigs.push(r);
  const server = r.next();
  const caller = await connectTelnyxCaller(r.url, { sendSilence: false, customParameters: { customer_id: 'c1' } });
  const { transport, recorder } = await server;
  await recorder.waitFor(() => recorder.of('start').length === 1, 5000, 'start');
  return { transport, recorder, caller };
}

void describe('TelnyxTransport', () => {
  void test('start gives the call control id, custom parameters and PCMU 8 kHz', async () => {
    const { recorder, caller, transport } = await connect();
    assert.deepEqual(recorder.of('start')[0]?.info, { callId: caller.callSid, streamId: caller.streamSid, parameters: { customer_id: 'c1' }, format: { encoding: 'pcmu', sampleRate: 8000 } });
    assert.equal(transport.kind, 'telnyx');
    await caller.stop();
  });

  void test('an error frame from Telnyx is counted and logged, not bad input; the call goes on', async () => {
    const { recorder, caller, transport } = await connect();
    caller.sendJson({ event: 'error', sequence_number: '5', stream_id: caller.streamSid, payload: { code: 100003, title: 'malformed_frame', detail: 'bad media' } });
    caller.sendDtmf('7');
    await recorder.waitFor(() => recorder.of('dtmf').length === 1, 5000, 'the dtmf after the error');
    assert.equal(transport.stats().carrierErrors, 1);
    assert.equal(recorder.of('badInput').length, 0);
    await caller.stop();
  });

  void test('audio goes out as media with marks every 200 ms, echoed by Telnyx once played; clear returns the rest, which never count', async () => {
    const { recorder, caller, transport } = await connect();
    // In 200 ms pieces, as the session sends them: a mark after each.
    for (let i = 0; i < 5; i++) transport.sendAudio({ epoch: 0, sentenceId: 0, bytes: ulaw(200), durationMs: 200 });
    await recorder.waitFor(() => recorder.of('played').length >= 1, 5000, 'a confirmation');
    transport.clear(1);
    await caller.waitUntil(() => caller.clears.total === 1 && caller.echoesBy('clear').length > 0, 5000, 'flushed echoes');
    transport.endSentence(1, 4);
    await recorder.waitFor(() => recorder.of('sentencePlayed').length === 1, 5000, 'the sentence after the clear');
    const flushed = new Set(caller.echoesBy('clear').map((e) => parseMarkName(e.name)?.positionMs));
    for (const p of recorder.of('played').filter((x) => x.epoch === 0)) assert.ok(!flushed.has(p.ms), `played(0, ${p.ms}) came from a flushed mark`);
    assert.deepEqual(caller.violations.toArray(), []);
    await caller.stop();
  });
});
