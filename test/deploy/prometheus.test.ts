/**
 * deploy/prometheus/alerts.yml is a valid rule file for Debian's Prometheus (`promtool check
 * rules`, installed by scripts/run-tests.mjs when missing), its unit tests pass (`promtool test
 * rules`), and it names only metrics the gateway exports.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayMetrics } from '../../src/server/metrics.js';

const RULES = 'deploy/prometheus/alerts.yml';

function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', cwd });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/prometheus/alerts.yml', () => {
  test('promtool check rules accepts it, with the six alerts', () => {
    const { status, output } = promtool(['check', 'rules', RULES]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 6 rules found/);
  });

  test('promtool test rules: each alert fires when it should and not before', () => {
    const { status, output } = promtool(['test', 'rules', 'alerts.test.yml'], 'deploy/prometheus');
    assert.equal(status, 0, output);
  });

  test('a broken expression is refused (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-rules-'));
    const broken = readFileSync(RULES, 'utf8').replace('> 262144', '> > 262144');
    writeFileSync(join(dir, 'alerts.yml'), broken);
    assert.notEqual(promtool(['check', 'rules', join(dir, 'alerts.yml')]).status, 0);
  });

  test('every voicewire metric it uses is exported by the gateway', async () => {
    const exported = await new GatewayMetrics().text();
    const used = new Set(readFileSync(RULES, 'utf8').match(/voicewire_[a-z0-9_]+/g) ?? []);
    assert.ok(used.size >= 6);
    for (const name of used) assert.match(exported, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is not exported`);
  });
});
