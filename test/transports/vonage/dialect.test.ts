/** The Vonage dialect: the codec's messages as the shared adapter's, from the docs' golden fixtures. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VONAGE_DIALECT } from '../../../src/transports/vonage/dialect.js';
import { goldenWire } from '../../e2e/conformance/fixtures.js';

const parse = (wire: object) => VONAGE_DIALECT.parse(JSON.stringify(wire), new Uint8Array(0));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Vonage dialect', () => {
  test('websocket:connected is the start: rate from the content-type, headers as parameters, uuid as the call id', () => {
    const result = parse({ ...goldenWire('vonage', 'connected'), uuid: 'call-1', conversation_uuid: 'conv-1' });
    assert.ok(result.ok && result.message.event === 'start');
    assert.deepEqual([result.message.callId, result.message.streamId, result.message.parameters, result.message.format], ['call-1', 'conv-1', { app: 'demo', uuid: 'call-1' }, { encoding: 'pcm16', sampleRate: 16000 }]);
  });

  test('without a uuid header the call gets a fresh id, which also names the stream', () => {
    const result = parse(goldenWire('vonage', 'connected'));
    assert.ok(result.ok && result.message.event === 'start');
    assert.match(result.message.callId, UUID);
    assert.equal(result.message.streamId, result.message.callId);
  });

  test('notify echoes are marks (a payload without a name is an unknown mark); cleared is a notice', () => {
    const notify = parse(goldenWire('vonage', 'notify'));
    assert.deepEqual(notify.ok && notify.message, { event: 'mark', streamId: '', name: 'vw:0:4:1000' });
    const nameless = parse({ event: 'websocket:notify', payload: { other: 1 } });
    assert.deepEqual(nameless.ok && nameless.message, { event: 'mark', streamId: '', name: '' });
    const cleared = parse(goldenWire('vonage', 'cleared'));
    assert.ok(cleared.ok && cleared.message.event === 'notice');
  });

  test('binary audio: whole samples are media, anything else a coded error', () => {
    const ok = VONAGE_DIALECT.parseBinary!(new Uint8Array(640));
    assert.ok(ok.ok && ok.message.event === 'media' && ok.message.payload.length === 640);
    const odd = VONAGE_DIALECT.parseBinary!(new Uint8Array(3));
    assert.equal(!odd.ok && odd.error.code, 'VW_ERR_BAD_PAYLOAD_SIZE');
  });

  test('outbound: one 20 ms frame per message, a copy of the bytes; notify and clear as the docs show them', () => {
    assert.equal(VONAGE_DIALECT.outboundFrameBytes!({ encoding: 'pcm16', sampleRate: 16000 }), 640);
    assert.equal(VONAGE_DIALECT.outboundFrameBytes!({ encoding: 'pcm16', sampleRate: 8000 }), 320);
    const source = new Uint8Array(1280).fill(7);
    const frame = VONAGE_DIALECT.serializeMedia('', source, 640, 1280, { encoding: 'pcm16', sampleRate: 16000 }) as Uint8Array;
    source.fill(0);
    assert.deepEqual([frame.length, frame[0]], [640, 7]);
    assert.deepEqual(JSON.parse(VONAGE_DIALECT.serializeMark('', 'vw:0:4:1000')), goldenWire('vonage', 'server-notify'));
    assert.deepEqual(JSON.parse(VONAGE_DIALECT.serializeClear('')), goldenWire('vonage', 'server-clear'));
  });
});
