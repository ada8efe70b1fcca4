#!/usr/bin/env node
// Some tests drive real Debian programs (chromium, haproxy, kubectl, prometheus). Installs a package when the
// program it provides is missing; as root only, with `apt-get update` first (a fresh CI machine has
// no package lists). `node scripts/ensure-debian.mjs haproxy kubernetes-client` does it by hand.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** The program each package the tests use provides, and extra packages installed with it. */
export const PROGRAMS = {
  chromium: { path: '/usr/bin/chromium', extra: ['fonts-dejavu-core'] },
  haproxy: { path: '/usr/sbin/haproxy', extra: [] },
  'kubernetes-client': { path: '/usr/bin/kubectl', extra: [] },
  prometheus: { path: '/usr/bin/promtool', extra: [] },
};

let updated = false;

/** True when `pkg`'s program exists, installing the package first if needed (and possible). */
export function ensureDebian(pkg) {
  const spec = PROGRAMS[pkg];
  if (spec === undefined) throw new Error(`ensure-debian: unknown package ${pkg}`);
  if (existsSync(spec.path)) return true;
  if (process.getuid?.() !== 0) {
    console.error(`ensure-debian: ${spec.path} is missing and this is not root: install Debian's ${pkg} package`);
    return false;
  }
  console.error(`ensure-debian: installing Debian ${pkg} (apt-get update && apt-get install -y ${pkg})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [...(updated ? [] : [['update']]), ['install', '-y', pkg, ...spec.extra]];
  for (const args of steps) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.status !== 0) {
      console.error(`ensure-debian: apt-get ${args[0]} failed with ${result.status}`);
      return false;
    }
    if (args[0] === 'update') updated = true;
  }
  return existsSync(spec.path);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const packages = process.argv.slice(2);
  process.exit(packages.every((pkg) => ensureDebian(pkg)) ? 0 : 1);
}
