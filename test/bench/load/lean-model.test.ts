import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendAudioStart } from '../../../bench/load/lean-model.js';

const at = (text: string): number => appendAudioStart(Buffer.from(text));

void describe('lean model: appendAudioStart (appends recognised on the bytes, never parsed)', () => {
  void test('the two shapes the servers send: where the base64 starts', () => {
    const plain = '{"type":"input_audio_buffer.append","audio":"';
    assert.equal(at(`${plain}////"}`), plain.length);
    const withId = '{"event_id":"evt_123","type":"input_audio_buffer.append","audio":"';
    assert.equal(at(`${withId}AAAA"}`), withId.length);
  });

  void test('anything else is -1 (parsed in full)', () => {
    assert.equal(at('{"type":"session.update","session":{}}'), -1);
    assert.equal(at('{"audio":"////","type":"input_audio_buffer.append"}'), -1);
    assert.equal(at('{"event_id":"e","type":"response.cancel"}'), -1);
    assert.equal(at(''), -1);
    // The type after an event id longer than the 80 bytes the check looks at.
    assert.equal(at(`{"event_id":"${'x'.repeat(100)}","type":"input_audio_buffer.append","audio":"AAAA"}`), -1);
  });
});
