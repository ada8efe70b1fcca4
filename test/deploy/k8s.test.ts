/**
 * deploy/k8s renders with `kubectl kustomize` (Debian's kubernetes-client, installed by
 * scripts/run-tests.mjs when missing) and says what the gateway needs: readiness on /readyz,
 * liveness on /healthz, a preStop pause, a grace period longer than the drain, a config the gateway
 * accepts. kubectl's output is canonical YAML (two-space indent, one key per line), so documents
 * are read with line patterns rather than a YAML dependency.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/server/config.js';

function render(dir: string): string[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split(/^---$/m).map((d) => d.trim()).filter((d) => d.length > 0);
}

function kindOf(doc: string): string {
  return /^kind: (\S+)$/m.exec(doc)?.[1] ?? '';
}

/** The `key: value` lines of a top-level map (`data:`, `stringData:`) as an object. */
function topMap(doc: string, key: string): Record<string, string> {
  const block = new RegExp(`^${key}:\\n((?:  .*\\n?)*)`, 'm').exec(doc)?.[1] ?? '';
  const entries = block.split('\n').flatMap((line) => {
    const m = /^  ([A-Z_0-9]+): (.*)$/.exec(line);
    return m ? [[m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')] as const] : [];
  });
  return Object.fromEntries(entries);
}

/** The first value of `key:` in `doc` (any depth). */
function value(doc: string, key: string, after = ''): string | undefined {
  const from = after === '' ? 0 : doc.indexOf(after);
  if (from < 0) return undefined;
  return new RegExp(`^\\s*-?\\s*${key}: (.+)$`, 'm').exec(doc.slice(from))?.[1]?.replace(/^"(.*)"$/, '$1');
}

describe('deploy/k8s', () => {
  const docs = render('deploy/k8s/example');
  const byKind = (kind: string): string => {
    const doc = docs.find((d) => kindOf(d) === kind);
    assert.ok(doc, `no ${kind}`);
    return doc;
  };

  test('the example renders every object, all in the voicewire namespace', () => {
    assert.deepEqual(docs.map(kindOf).sort(), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service']);
    for (const doc of docs.filter((d) => kindOf(d) !== 'Namespace')) assert.equal(value(doc, 'namespace'), 'voicewire', kindOf(doc));
    // The base alone (for your own overlay) has everything but the example Secret and Namespace.
    assert.deepEqual(render('deploy/k8s/base').map(kindOf).sort(), ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
  });

  test('the gateway accepts the ConfigMap and Secret as its environment', () => {
    const env = { ...topMap(byKind('ConfigMap'), 'data'), ...topMap(byKind('Secret'), 'stringData') };
    assert.ok(Object.keys(env).length >= 10);
    const result = loadConfig(env);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    assert.equal(result.config.fleet.requireSignatures, true);
    assert.equal(result.config.fleet.adminPort, 9090);
    assert.ok(result.config.sessionSecret !== undefined, 'one SESSION_SECRET for every replica');
  });

  test('the Deployment drains: readiness /readyz, liveness /healthz, preStop, grace period > preStop + DRAIN_TIMEOUT_MS, no unavailable replica in a rollout', () => {
    const deployment = byKind('Deployment');
    const drainMs = Number(topMap(byKind('ConfigMap'), 'data').DRAIN_TIMEOUT_MS);
    const graceS = Number(value(deployment, 'terminationGracePeriodSeconds'));
    const preStop = /preStop:\n\s+exec:\n\s+command:\n\s+- sleep\n\s+- "?(\d+)"?/.exec(deployment);
    assert.ok(preStop, 'a preStop sleep');
    const preStopS = Number(preStop[1]);
    assert.ok(graceS * 1000 > preStopS * 1000 + drainMs + 2_000, `grace ${graceS} s vs preStop ${preStopS} s + drain ${drainMs} ms + 2 s of close handshakes`);
    assert.equal(value(deployment, 'path', 'readinessProbe:'), '/readyz');
    assert.equal(value(deployment, 'path', 'livenessProbe:'), '/healthz');
    assert.equal(value(deployment, 'maxUnavailable'), '0');
    assert.equal(value(deployment, 'image'), 'registry.example.com/voicewire:0.1.0');
    assert.equal(value(deployment, 'runAsNonRoot'), 'true');
  });

  test('PDB, HPA and Service select the pods', () => {
    assert.equal(value(byKind('PodDisruptionBudget'), 'maxUnavailable'), '1');
    const hpa = byKind('HorizontalPodAutoscaler');
    assert.equal(value(hpa, 'name', 'scaleTargetRef:'), 'voicewire');
    assert.equal(value(hpa, 'name', 'resource:'), 'cpu');
    assert.ok(Number(value(hpa, 'minReplicas')) >= 2);
    for (const kind of ['Service', 'PodDisruptionBudget']) assert.equal(value(byKind(kind), 'app.kubernetes.io/name', 'selector:'), 'voicewire', kind);
  });
});
