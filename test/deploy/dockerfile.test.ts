/**
 * deploy/Dockerfile cannot be built in CI (no image registry), so its promises are checked as text:
 * every COPY source exists, the runtime stage installs production dependencies only, runs as a
 * non-root user, starts the package's own entry point in exec form (node is PID 1 and gets SIGTERM),
 * and has a HEALTHCHECK on /healthz.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');
const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));
const stages = dockerfile.split(/^FROM /m).slice(1);
const runtime = stages.at(-1) ?? '';

describe('deploy/Dockerfile', () => {
  test('every COPY from the build context names a file or folder of the repository', () => {
    const sources = lines.filter((l) => /^COPY (?!--from)/.test(l)).flatMap((l) => l.replace(/^COPY /, '').trim().split(/\s+/).slice(0, -1));
    assert.ok(sources.length >= 5);
    for (const source of sources) assert.ok(existsSync(source), `${source} is missing`);
  });

  test('two stages; the runtime one installs production dependencies only and copies the build output', () => {
    assert.equal(stages.length, 2);
    assert.match(runtime, /^RUN npm ci --omit=dev/m);
    assert.match(runtime, /^COPY --from=build \/app\/dist\/src dist\/src$/m);
    assert.match(runtime, /^COPY --from=build \/app\/client\/dist client\/dist$/m);
  });

  test('non-root, exec-form CMD of the package entry point, SIGTERM, HEALTHCHECK on /healthz', () => {
    assert.match(runtime, /^USER node$/m);
    const bin = (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> }).bin.voicewire;
    assert.match(runtime, new RegExp(`^CMD \\["node", "${bin}"\\]$`, 'm'));
    assert.match(runtime, /^STOPSIGNAL SIGTERM$/m);
    assert.match(runtime, /^HEALTHCHECK [^\n]*\\\n\s+CMD \[[^\n]*\/healthz/m);
  });
});
