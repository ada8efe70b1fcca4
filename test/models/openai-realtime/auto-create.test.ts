import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AutoCreateMode } from '../../../src/models/openai-realtime/auto-create.js';

describe('AutoCreateMode', () => {
  test('the mode a commit runs under is the last acknowledged update, in order', () => {
    const mode = new AutoCreateMode(true);
    assert.equal(mode.needsHold(), true);
    mode.sent('e1', false);
    assert.equal(mode.serverCreates, true, 'not acknowledged yet: a commit now was the server\'s');
    assert.equal(mode.needsHold(), false);
    assert.equal(mode.needsRelease(), true);
    mode.sent('e2', true);
    mode.updated();
    assert.equal(mode.serverCreates, false, 'between the two acknowledgements: the client answers');
    mode.updated();
    assert.equal(mode.serverCreates, true);
    assert.equal(mode.needsRelease(), false);
  });

  test('a refused update never takes effect; unknown ids are not ours', () => {
    const mode = new AutoCreateMode(true);
    mode.sent('e1', false);
    assert.equal(mode.rejected('other'), false);
    assert.equal(mode.rejected('e1'), true);
    mode.updated(); // a stray session.updated with nothing in flight changes nothing
    assert.equal(mode.serverCreates, true);
  });

  test('configured off: never held, never released, the client never answers a commit here', () => {
    const mode = new AutoCreateMode(false);
    assert.equal(mode.needsHold(), false);
    assert.equal(mode.needsRelease(), false);
    assert.equal(mode.serverCreates, false);
  });

  test('a new socket starts over as configured', () => {
    const mode = new AutoCreateMode(true);
    mode.sent('e1', false);
    mode.updated();
    mode.reset();
    assert.equal(mode.serverCreates, true);
    assert.equal(mode.needsHold(), true);
  });
});
