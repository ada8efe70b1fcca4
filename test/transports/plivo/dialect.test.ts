/** The Plivo dialect: the codec's messages as the shared adapter's, from the docs' golden fixtures. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PLIVO_DIALECT, audioFormatOf } from '../../../src/transports/plivo/dialect.js';
import { goldenWire } from '../../e2e/conformance/fixtures.js';

const parse = (name: string) => PLIVO_DIALECT.parse(JSON.stringify(goldenWire('plivo', name)), new Uint8Array(32_000));

describe('Plivo dialect', () => {
  test('start: ids, the format both ways, extra headers as parameters', () => {
    const result = parse('start');
    assert.ok(result.ok);
    assert.deepEqual(
      { ...result.message, detail: undefined },
      {
        event: 'start',
        streamId: '87654321-4321-4321-4321-cba987654321',
        callId: '12345678-1234-1234-1234-123456789abc',
        parameters: { userId: '12345', sessionId: 'abc-xyz' },
        format: { encoding: 'pcmu', sampleRate: 8000 },
        detail: undefined,
      },
    );
  });

  test('playedStream is a mark echo; clearedAudio a notice that names its stream', () => {
    const played = parse('playedStream');
    assert.ok(played.ok && played.message.event === 'mark');
    const cleared = parse('clearedAudio');
    assert.deepEqual(cleared.ok && cleared.message, { event: 'notice', what: 'clearedAudio', streamId: '20170ada-f610-433b-8758-c02a2aab3662' });
  });

  test('playAudio names the stream format: μ-law 8 kHz, or L16 at its rate', () => {
    const bytes = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual(JSON.parse(PLIVO_DIALECT.serializeMedia('s', bytes, 0, 4, { encoding: 'pcmu', sampleRate: 8000 }) as string), goldenWire('plivo', 'server-playAudio'));
    const l16 = JSON.parse(PLIVO_DIALECT.serializeMedia('s', bytes, 0, 4, { encoding: 'pcm16', sampleRate: 16000 }) as string) as { media: object };
    assert.deepEqual(l16.media, { contentType: 'audio/x-l16', sampleRate: 16000, payload: '/////w==' });
    assert.deepEqual(audioFormatOf({ encoding: 'audio/x-l16', sampleRate: 8000 }), { encoding: 'pcm16', sampleRate: 8000 });
  });

  test('malformed input stays a coded error', () => {
    const result = PLIVO_DIALECT.parse('{"event":"playedStream"}', new Uint8Array(16));
    assert.equal(!result.ok && result.error.code, 'VW_ERR_BAD_FIELD');
  });
});
