import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { callTraces, traceMixin } from '../../src/telemetry/log-correlation.js';

/** A pino logger with the gateway's mixin, writing parsed lines into `lines`. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info', mixin: traceMixin }, sink), lines };
}

void describe('traceMixin (trace ids on log lines)', () => {
  void it('a field of one line never appears on later lines, traced call or not (regression: a shared mixin object kept `code`)', () => {
    const { logger, lines } = capture();
    logger.warn({ code: 'VW_ERR_NO_SESSION_SECRET' }, 'first');
    logger.info({ port: 1 }, 'second');
    callTraces.set('CA-traced', { trace_id: 't'.repeat(32), span_id: 's'.repeat(16) });
    try {
      const call = logger.child({ callSid: 'CA-traced' });
      call.warn({ code: 'VW_ERR_PLAYOUT_STALLED' }, 'third');
      call.info('fourth');
      logger.info('fifth');
    } finally {
      callTraces.delete('CA-traced');
    }
    assert.deepEqual(lines.map((line) => [line['msg'], line['code'], line['port'], line['trace_id'], line['span_id']]), [
      ['first', 'VW_ERR_NO_SESSION_SECRET', undefined, undefined, undefined],
      ['second', undefined, 1, undefined, undefined],
      ['third', 'VW_ERR_PLAYOUT_STALLED', undefined, 't'.repeat(32), 's'.repeat(16)],
      ['fourth', undefined, undefined, 't'.repeat(32), 's'.repeat(16)],
      ['fifth', undefined, undefined, undefined, undefined],
    ]);
    assert.deepEqual(callTraces.get('CA-traced'), undefined);
  });
});
