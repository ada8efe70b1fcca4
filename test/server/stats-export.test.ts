import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { exportStats, numericFields, readStats } from '../../src/server/stats-export.js';

describe('stats export', () => {
  test('numeric positive fields only, from a stats() method or a stats getter', () => {
    assert.deepEqual(numericFields({ a: 2, b: 0, c: 'x', d: Number.NaN, e: 1.5 }), [['a', 2], ['e', 1.5]]);
    assert.deepEqual(numericFields(undefined), []);
    const adapter = { n: 3, stats() { return { marksSent: this.n }; } };
    assert.deepEqual(readStats(adapter), { marksSent: 3 });
    assert.deepEqual(readStats({ get stats() { return { reconnects: 1 }; } }), { reconnects: 1 });
    assert.equal(readStats({}), undefined);
  });

  test('a finished call adds its figures to the counter, labelled by field', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 't_total', help: 'h', labelNames: ['transport', 'stat'], registers: [registry] });
    exportStats(counter, { transport: 'twilio' }, { clearsSent: 2, marksSent: 10 });
    exportStats(counter, { transport: 'twilio' }, { clearsSent: 1 });
    const text = await registry.metrics();
    assert.match(text, /t_total\{transport="twilio",stat="clearsSent"\} 3\n/);
    assert.match(text, /t_total\{transport="twilio",stat="marksSent"\} 10\n/);
  });
});
