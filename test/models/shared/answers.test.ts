import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TWILIO_FORMAT } from '../../../src/audio/format.js';
import type { ModelAudio, ModelEvents } from '../../../src/models/model.js';
import { Answers, cutAtFraction, heardNote, MAX_TEXT_CHARS } from '../../../src/models/shared/answers.js';
import { FormatConverter } from '../../../src/models/shared/convert.js';

function recorder(): { events: ModelEvents; log: string[]; audio: ModelAudio[] } {
  const log: string[] = [];
  const audio: ModelAudio[] = [];
  const events: ModelEvents = {
    speechStarted: () => log.push('speechStarted'),
    speechStopped: () => log.push('speechStopped'),
    responseStarted: (id) => log.push(`started ${id}`),
    audio: (chunk) => {
      audio.push(chunk);
      return Promise.resolve();
    },
    sentenceEnd: () => undefined,
    responseDone: (id, status) => log.push(`done ${id} ${status}`),
    transcript: () => undefined,
    error: (e) => log.push(`error ${e.code}`),
    closed: () => log.push('closed'),
  };
  return { events, log, audio };
}

describe('Answers', () => {
  test('each answer gets its own ids; late audio after an interruption is dropped until the next answer', () => {
    const { events, log, audio } = recorder();
    const answers = new Answers('t', TWILIO_FORMAT, new FormatConverter(TWILIO_FORMAT, TWILIO_FORMAT), () => events);
    answers.audio(new Uint8Array(80));
    answers.interrupt(true);
    assert.equal(answers.audio(new Uint8Array(80)), false);
    answers.begin();
    answers.audio(new Uint8Array(160));
    assert.deepEqual(log, ['started t_resp_1', 'done t_resp_1 cancelled', 'started t_resp_2']);
    assert.deepEqual(audio.map((a) => [a.responseId, a.itemId, a.durationMs]), [['t_resp_1', 't_item_1', 10], ['t_resp_2', 't_item_2', 20]]);
    assert.equal(answers.stats.lateDropped, 1);
  });

  test('heardOf cuts the transcript at the heard fraction of the generated audio', () => {
    const { events } = recorder();
    const answers = new Answers('t', TWILIO_FORMAT, new FormatConverter(TWILIO_FORMAT, TWILIO_FORMAT), () => events);
    answers.audio(new Uint8Array(8000)); // 1000 ms
    answers.text('one two three four');
    const report = answers.heardOf('t_item_1', 500)!;
    assert.equal(report.heardText, 'one two');
    assert.equal(report.generatedMs, 1000);
    assert.equal(heardNote(report), 'The caller interrupted your last answer and heard only this part of it: "one two". Treat the rest as not said.');
    assert.equal(answers.heardOf('unknown', 10), undefined);
  });

  test('text sent ahead of audio that was cut short is cut by the estimated length of the whole answer', () => {
    const { events } = recorder();
    const answers = new Answers('t', TWILIO_FORMAT, new FormatConverter(TWILIO_FORMAT, TWILIO_FORMAT), () => events);
    answers.begin();
    const text = 'word '.repeat(56).trim(); // 279 characters ≈ 19.9 s at 0.014 characters per ms
    answers.setText(text);
    answers.audio(new Uint8Array(8 * 4000)); // only 4 s synthesized before the interruption
    answers.interrupt(false);
    const report = answers.heardOf('t_item_1', 2000)!;
    assert.equal(report.heardText.split(' ').length, 5, '2 s of ≈ 19.9 s: 28 characters, five whole words of 56 (not half of the text)');
    // Completed answers are cut by the audio generated.
    answers.begin();
    answers.setText('one two three four');
    answers.audio(new Uint8Array(8000));
    answers.finish('completed');
    assert.equal(answers.heardOf('t_item_2', 500)!.heardText, 'one two');
  });
});

test('an answer\'s transcript is bounded', () => {
  const { events } = recorder();
  const answers = new Answers('t', TWILIO_FORMAT, new FormatConverter(TWILIO_FORMAT, TWILIO_FORMAT), () => events);
  answers.begin();
  for (let i = 0; i < 2000; i++) answers.text('0123456789 ');
  assert.equal(answers.active!.text.length, MAX_TEXT_CHARS);
});

describe('cutAtFraction', () => {
  test('keeps whole words only', () => {
    assert.equal(cutAtFraction('hello world', 0.5), 'hello');
    assert.equal(cutAtFraction('hello world', 0.4), '');
    assert.equal(cutAtFraction('hello world', 1), 'hello world');
    assert.equal(cutAtFraction('hello world', 0), '');
    assert.equal(cutAtFraction('hello world', Number.NaN), '');
  });

  test('property: the cut is a prefix of the text, made of whole words, growing with the fraction', () => {
    const words = fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 20 }).map((w) => w.join(' '));
    fc.assert(fc.property(words, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (text, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const cutLo = cutAtFraction(text, lo);
      const cutHi = cutAtFraction(text, hi);
      assert.ok(text.startsWith(cutLo) && text.startsWith(cutHi));
      assert.ok(cutHi.length >= cutLo.length);
      if (cutHi !== '' && cutHi.length < text.length) assert.equal(text.charAt(cutHi.length), ' ');
    }));
  });
});
