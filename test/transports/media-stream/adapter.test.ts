/**
 * The shared media-stream adapter's dialect hooks that no carrier of this branch uses yet, with a
 * toy dialect (Telnyx's, plus binary audio frames and a notice): a dialect may take caller audio as
 * binary frames, and may accept an acknowledgement it does not act on without calling it bad input.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { once } from 'node:events';
import { MediaStreamTransport } from '../../../src/transports/media-stream/adapter.js';
import type { MediaStreamDialect } from '../../../src/transports/media-stream/dialect.js';
import { TELNYX_DIALECT } from '../../../src/transports/telnyx/dialect.js';
import { rigOf, type Rig } from '../twilio/helpers.js';

const TOY: MediaStreamDialect = {
  ...TELNYX_DIALECT,
  parse(text, out) {
    if (text === '{"event":"cleared"}') return { ok: true, message: { event: 'notice', what: 'cleared' } };
    return TELNYX_DIALECT.parse(text, out);
  },
  parseBinary: (bytes) => ({ ok: true, message: { event: 'media', streamId: 'S1', track: undefined, payload: bytes } }),
};

const rigs: Array<Rig<MediaStreamTransport>> = [];
after(() => rigs.forEach((r) => r.close()));

describe('MediaStreamTransport: dialect hooks', () => {
  test('binary frames go through parseBinary; a notice is neither bad input nor an event', async () => {
    const r = await rigOf((ws, o) => new MediaStreamTransport(ws, TOY, o));
    rigs.push(r);
    const server = r.next();
    const client = new WebSocket(r.url, { perMessageDeflate: false });
    await once(client, 'open');
    const { recorder } = await server;
    const start = { event: 'start', sequence_number: '1', stream_id: 'S1', start: { call_control_id: 'v3:c', media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } } };
    client.send(JSON.stringify(start));
    client.send('{"event":"cleared"}');
    client.send(new Uint8Array(160).fill(0x7f), { binary: true });
    await recorder.waitFor(() => recorder.of('audio').length === 1, 5000, 'binary audio');
    assert.equal(recorder.of('audio')[0]?.durationMs, 20);
    assert.deepEqual(recorder.log.map((e) => e.type), ['start', 'audio']);
    client.terminate();
  });
});
