/**
 * A real Prometheus (Debian's package, installed by scripts/run-tests.mjs when missing) scrapes a
 * live gateway on 127.0.0.1 during a call, loads deploy/prometheus/alerts.yml, and answers a
 * voicewire metric through its HTTP API. Prometheus cannot listen on port 0 and report the port,
 * so it takes a free port of this helper's range (22000–22999).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startGateway } from '../harness.js';
import { toneSamples } from '../../fakes/twilio-caller.js';

async function freePort(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const free = await new Promise<boolean>((done) => {
      const probe = createServer();
      probe.once('error', () => done(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}–${to}`);
}

interface QueryResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** Polls an instant query until `accept` holds; Prometheus has no push notification for this. */
async function queryUntil(base: string, query: string, accept: (r: QueryResult[]) => boolean, deadlineMs: number): Promise<QueryResult[]> {
  const deadline = Date.now() + deadlineMs;
  let last: QueryResult[] = [];
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { status: string; data?: { result: QueryResult[] } };
      last = body.data?.result ?? [];
      if (body.status === 'success' && accept(last)) return last;
    } catch {
      // Not listening yet.
    }
    await delay(250);
  }
  throw new Error(`${query}: not satisfied within ${deadlineMs} ms (last ${JSON.stringify(last)})`);
}

describe('Prometheus scrapes a live gateway', { concurrency: false }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('voicewire_calls_active reads 1 through the Prometheus API during a call', async () => {
    const r = await startGateway({}, { answerMs: 30_000, speedFactor: 1 });
    cleanups.push(() => r.close());
    const gatewayPort = new URL(r.baseUrl).port;
    const dir = mkdtempSync(join(tmpdir(), 'vw-prometheus-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${resolve('deploy/prometheus/alerts.yml')}']`,
        'scrape_configs:',
        '  - job_name: voicewire',
        `    static_configs: [{ targets: ['127.0.0.1:${gatewayPort}'] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort(22_090, 22_199);
    const prometheus: ChildProcess = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    prometheus.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 20_000) stderr += chunk.toString('utf8');
    });
    const exited = new Promise<void>((done) => prometheus.once('exit', () => done()));
    cleanups.push(async () => {
      prometheus.kill('SIGTERM');
      await Promise.race([exited, delay(5_000)]);
    });
    const base = `http://127.0.0.1:${port}`;

    const caller = await r.call();
    await caller.sendSpeech(toneSamples(400));
    await caller.waitUntil(() => caller.playedMs >= 200, 10_000, 'the answer playing');
    try {
      const up = await queryUntil(base, 'up{job="voicewire"}', (res) => res[0]?.value[1] === '1', 20_000);
      assert.equal(up.length, 1);
      const active = await queryUntil(base, 'voicewire_calls_active', (res) => res.some((x) => x.value[1] === '1'), 15_000);
      const series = active.find((x) => x.value[1] === '1')!;
      console.log(`# prometheus ${port} scraped ${gatewayPort}: voicewire_calls_active ${JSON.stringify(series.metric)} = ${series.value[1]}`);
      assert.equal(series.metric.transport, 'twilio');
      assert.equal(series.metric.backend, 'openai-realtime');
      assert.equal(series.metric.job, 'voicewire');
      // The alert rules loaded (one group, six rules).
      const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string; rules: unknown[] }> } };
      assert.deepEqual(rules.data.groups.map((g) => [g.name, g.rules.length]), [['voicewire', 6]]);
    } catch (err) {
      throw new Error(`${String(err)}\nprometheus stderr:\n${stderr.slice(-3_000)}`);
    }
    await caller.stop();
  });
});
