import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS, VoicewireError, isVoicewireError, vwError, type ErrorCode } from '../src/errors.js';

/**
 * Pins the error table: codes are an interface (operators match on them, peers see the close
 * codes), so a change here must be deliberate.
 */
describe('error codes', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  test('every code is VW_ERR_* with a non-empty message template', () => {
    for (const code of codes) {
      assert.match(code, /^VW_ERR_[A-Z0-9_]+$/, code);
      assert.ok(ERRORS[code].message.length > 0, code);
    }
  });

  test('close codes are valid WebSocket application codes, and each means one thing', () => {
    const seen = new Map<number, ErrorCode>();
    for (const code of codes) {
      const close = (ERRORS[code] as { closeCode?: number }).closeCode;
      if (close === undefined) continue;
      assert.ok((close >= 4000 && close <= 4999) || close === 1001 || close === 1011 || close === 1013, `${code}: ${close}`);
      assert.equal(seen.get(close), undefined, `${code} reuses close code ${close} of ${seen.get(close)}`);
      seen.set(close, code);
    }
  });

  test('the close codes peers see are pinned', () => {
    const table = Object.fromEntries(
      codes.flatMap((code) => {
        const close = (ERRORS[code] as { closeCode?: number }).closeCode;
        return close === undefined ? [] : [[code, close]];
      }),
    );
    assert.deepEqual(table, {
      VW_ERR_PROTOCOL_VERSION: 4002,
      VW_ERR_TOO_MANY_BAD_INPUTS: 4003,
      VW_ERR_DUPLICATE_START: 4004,
      VW_ERR_HELLO_TIMEOUT: 4005,
      VW_ERR_SLOW_CONSUMER: 4008,
      VW_ERR_HEARTBEAT: 4009,
      VW_ERR_MODEL_UNAVAILABLE: 4010,
      VW_ERR_PLAYOUT_STALLED: 4011,
      VW_ERR_MODEL_CONNECT: 4012,
      VW_ERR_CALL_REJECTED: 4022,
      VW_ERR_SERVER_FULL: 1013,
      VW_ERR_INTERNAL: 1011,
      VW_ERR_SHUTDOWN: 1001,
      VW_ERR_START_TIMEOUT: 4020,
      VW_ERR_CALL_TOO_LONG: 4021,
    });
  });

  test('messages fill their %s slots in order and errors carry code and close code', () => {
    const error = vwError('VW_ERR_SLOW_CONSUMER', 1048576, 5000);
    assert.ok(error instanceof VoicewireError);
    assert.equal(error.message, 'bufferedAmount stayed above 1048576 bytes for 5000 ms');
    assert.equal(error.code, 'VW_ERR_SLOW_CONSUMER');
    assert.equal(error.closeCode, 4008);
    assert.ok(isVoicewireError(error, 'VW_ERR_SLOW_CONSUMER'));
    assert.ok(!isVoicewireError(error, 'VW_ERR_HEARTBEAT'));
    assert.ok(!isVoicewireError(new Error('VW_ERR_SLOW_CONSUMER')), 'matched on the class and code, never on text');
  });

  test('VW_ERR_BAD_SIGNATURE names no carrier: every carrier refuses with it', () => {
    const error = vwError('VW_ERR_BAD_SIGNATURE');
    assert.equal(error.message, 'missing or invalid carrier signature or credential');
    assert.equal(error.closeCode, undefined);
  });
});
