/**
 * deploy/grafana/voicewire-dashboard.json: valid JSON with the panels the issue lists, every query
 * valid PromQL (promtool, with Grafana's variables substituted) and every voicewire metric it
 * reads exported by the gateway.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayMetrics } from '../../src/server/metrics.js';

interface Panel {
  readonly title: string;
  readonly targets: ReadonlyArray<{ readonly expr: string }>;
}

const dashboard = JSON.parse(readFileSync('deploy/grafana/voicewire-dashboard.json', 'utf8')) as { uid: string; panels: Panel[] };

describe('deploy/grafana/voicewire-dashboard.json', () => {
  test('has the panels operators need', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const needed of ['active calls', 'buffered at callers', 'credit', 'queue depth', 'first audio', 'barge-in', 'dropped audio', 'bufferedamount', 'event-loop lag', 'underruns', 'model errors']) {
      assert.ok(titles.some((t) => t.includes(needed)), `no panel for ${needed}`);
    }
  });

  test('every query is valid PromQL and reads exported metrics', async () => {
    const exported = await new GatewayMetrics().text();
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*')));
    // promtool has no "check expression": a rule file with one recording rule per query does it.
    const dir = mkdtempSync(join(tmpdir(), 'vw-dash-'));
    const rules = ['groups:', '  - name: dashboard', '    rules:', ...exprs.map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}`)].join('\n');
    writeFileSync(join(dir, 'rules.yml'), `${rules}\n`);
    const result = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    const metrics = new Set(exprs.join(' ').match(/voicewire_[a-z0-9_]+/g)?.map((m) => m.replace(/_bucket$/, '')) ?? []);
    for (const name of metrics) assert.match(exported, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is not exported`);
  });
});
