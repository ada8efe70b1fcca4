#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (through tsx), so CI reads node's
// closing summary. Node 20's `--test` cannot glob TypeScript files itself, hence this list.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureChromium } from './ensure-chromium.mjs';
import { ensureDebian } from './ensure-debian.mjs';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
// Real-browser tests need Debian's chromium; install it before the runner starts (they fail loudly
// without it rather than skip: a browser test that never runs proves nothing).
if (files.some((f) => f.includes('browser/real-browser')) && !ensureChromium()) {
  console.error('run-tests: chromium is required for the real-browser tests');
  process.exit(1);
}
// The fleet end-to-end test runs a real HAProxy; the deploy test renders the manifests with kubectl.
const debianNeeds = [
  { fragment: 'test/e2e/fleet/', pkg: 'haproxy' },
  { fragment: 'test/deploy/haproxy', pkg: 'haproxy' },
  { fragment: 'test/deploy/k8s', pkg: 'kubernetes-client' },
  // promtool checks the alert rules; the observability e2e test scrapes a live gateway.
  { fragment: 'test/deploy/prometheus', pkg: 'prometheus' },
  { fragment: 'test/deploy/grafana', pkg: 'prometheus' },
  { fragment: 'test/e2e/observability/prometheus', pkg: 'prometheus' },
];
for (const { fragment, pkg } of debianNeeds) {
  if (files.some((f) => f.includes(fragment)) && !ensureDebian(pkg)) {
    console.error(`run-tests: Debian ${pkg} is required for ${fragment}`);
    process.exit(1);
  }
}
// Unit and component tests run two files at a time; the end-to-end tests (real sockets, real-time
// playback, a real browser, netimpair) run one file at a time so that their timing assertions
// (underruns, barge-in latency) measure the gateway, not the other test files competing for 2 cores.
const groups = [
  { files: files.filter((f) => !f.startsWith('test/e2e/')), concurrency: 2 },
  { files: files.filter((f) => f.startsWith('test/e2e/')), concurrency: 1 },
].filter((g) => g.files.length > 0);
let status = 0;
for (const group of groups) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${group.concurrency}`, ...group.files],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
