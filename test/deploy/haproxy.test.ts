/**
 * deploy/haproxy/haproxy.cfg is valid for HAProxy (`haproxy -c`, Debian's haproxy, installed by
 * scripts/run-tests.mjs when missing) with its variables set, and refuses to load without them;
 * test/e2e/fleet/ runs it for real.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const CFG = 'deploy/haproxy/haproxy.cfg';

function check(env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync('haproxy', ['-c', '-f', CFG], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/haproxy/haproxy.cfg', () => {
  const env: Record<string, string> = { VW_LISTEN: '127.0.0.1:18090', VW_STATS_LISTEN: '127.0.0.1:18091', VW_CHECK_INTER: '2s' };
  for (let i = 1; i <= 6; i++) env[`VW_SERVER_${i}`] = `127.0.0.1:${18190 + i}`;

  test('is valid with its variables set', () => {
    const { status, output } = check(env);
    assert.equal(status, 0, output);
  });

  test('does not load with a variable missing', () => {
    const { VW_SERVER_3: _missing, ...partial } = env;
    assert.notEqual(check(partial).status, 0);
  });
});
