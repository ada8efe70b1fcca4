/**
 * Issue 9, end to end with real parts: HAProxy (deploy/haproxy/haproxy.cfg) in front of three
 * gateway processes, a fake Realtime model (child process), fake Twilio callers playing in real
 * time, an abusive client (child process).
 *
 * 1. Rolling restart with 60 concurrent calls: each replica in turn gets a replacement (ready
 *    first), then SIGTERM; new calls keep coming. 0 dropped, flow bounds held, no new call on a
 *    draining replica.
 * 2. kill -9 of one replica: only its calls end; HAProxy stops sending it calls within one check
 *    interval, and no new call fails meanwhile.
 * 3. Abuse while 20 legitimate calls run: 2 000 sockets that never send `start`, 1 000 bad webhooks
 *    a second for 10 s. Legitimate calls keep their bounds; new ones still connect.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CHECK_INTER_MS, Fleet, FleetCall, cpuSeconds, Haproxy, LB_PORT, launch, replicaEnv, signedHeaders, slotName, startModel } from './fleet.js';
import type { AbuseOptions, AbuseReport } from './abuser.js';
import { FakeTwilioCaller } from '../../fakes/twilio-caller.js';

const WINDOW_MS = 800;
const FRAME_MS = 20;
/** Length of every answer the fake model gives (audio ms), produced 8× faster than real time (the Realtime API also sends faster than real time). */
const ANSWER_MS = 5_000;
/** The gateways' START_TIMEOUT_MS (the default). */
const START_TIMEOUT_MS = 5_000;

interface Summary {
  readonly dropped: number;
  readonly refused: number;
  readonly unfinished: number;
  readonly maxBufferedMs: number;
  readonly underruns: number;
  /** Each underrun: replica, ms into the call, how long. */
  readonly underrunDetail: string[];
  readonly violations: number;
}

function summarise(calls: readonly FleetCall[]): Summary {
  let maxBufferedMs = 0;
  let underruns = 0;
  let violations = 0;
  const underrunDetail: string[] = [];
  for (const call of calls) {
    const b = call.bounds(ANSWER_MS);
    maxBufferedMs = Math.max(maxBufferedMs, b.maxBufferedMs);
    underruns += b.underruns.length;
    for (const u of b.underruns) {
      const at = u.start + call.clockOffset;
      const stalled = callerStalls.some((stall) => at >= stall.start - 150 && at <= stall.end);
      underrunDetail.push(`${call.server}@${u.start.toFixed(0)}+${((u.end ?? u.start) - u.start).toFixed(0)}ms${stalled ? ' (callers stalled)' : ''}`);
    }
    violations += call.caller?.violations.total ?? 0;
  }
  return {
    dropped: calls.filter((c) => c.dropped).length,
    refused: calls.filter((c) => c.refused !== undefined).length,
    unfinished: calls.filter((c) => !c.finished).length,
    maxBufferedMs,
    underruns,
    underrunDetail,
    violations,
  };
}

/** Every call connected, heard every answer, was never cut, and stayed within the flow bounds. */
function assertClean(label: string, s: Summary): void {
  assert.equal(s.refused, 0, `${label}: calls refused`);
  assert.equal(s.dropped, 0, `${label}: calls dropped`);
  assert.equal(s.unfinished, 0, `${label}: calls that did not hear their answers`);
  assert.ok(s.maxBufferedMs <= WINDOW_MS + FRAME_MS, `${label}: a caller held ${s.maxBufferedMs} ms`);
  assert.equal(s.underruns, 0, `${label}: underruns while the model spoke: ${s.underrunDetail.join(', ')}`);
  assert.equal(s.violations, 0, `${label}: Twilio protocol violations`);
}

/** Resolves when every connected call has played more than `ms` of its answer. */
async function hearing(calls: readonly FleetCall[], ms: number): Promise<void> {
  await Promise.all(calls.flatMap((c) => (c.caller ? [c.caller.waitUntil(() => c.caller!.playedMs > ms, 20_000, 'the answer')] : [])));
}

/** CPU seconds used so far by each part of the rig (replicas alive now; callers = this process). */
function cpuReport(fleet: Fleet, haproxy: Haproxy, model: ChildProcess): string {
  const replicas = [...fleet.replicas].filter(([, gw]) => gw.exit === undefined).map(([name, gw]) => `${name} ${cpuSeconds(gw.child.pid).toFixed(1)}`);
  const own = process.cpuUsage();
  return `cpu s: replicas ${replicas.join(', ')}; model ${cpuSeconds(model.pid).toFixed(1)}; haproxy ${cpuSeconds(haproxy.child.pid).toFixed(1)}; callers ${((own.user + own.system) / 1e6).toFixed(1)}`;
}

function byServer(calls: readonly FleetCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) if (c.server) counts[c.server] = (counts[c.server] ?? 0) + 1;
  return counts;
}

function runAbuser(options: AbuseOptions): { child: ChildProcess; report: Promise<AbuseReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/fleet/abuser.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const report = new Promise<AbuseReport>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`abuser exited with ${code} before reporting`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as AbuseReport));
  });
  return { child, report };
}

/**
 * Stretches when this process's event loop (the callers' clock) ran > 40 ms late: a caller that
 * reads audio late sees an underrun that the gateway did not cause. Reported beside each underrun
 * (diagnostics only: the assertion counts every underrun).
 */
const callerStalls: Array<{ start: number; end: number }> = [];
function watchStalls(): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 45 && callerStalls.length < 10_000) callerStalls.push({ start: last + 5, end: now });
    last = now;
  }, 5);
  return () => clearInterval(timer);
}

/** This process's event-loop delay (the callers' clock): a late loop would look like an underrun. */
function loopLag(): { read: () => string } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    read: () => {
      histogram.disable();
      return `callers' event-loop lag p99 ${(histogram.percentile(99) / 1e6).toFixed(0)} ms, max ${(histogram.max / 1e6).toFixed(0)} ms`;
    },
  };
}

describe('a voicewire fleet behind HAProxy', { concurrency: false }, () => {
  let model: { url: string; child: ChildProcess };
  let haproxy: Haproxy;
  let fleet: Fleet;
  const children: ChildProcess[] = [];
  const stopWatching = watchStalls();

  before(async () => {
    model = await startModel({ answerMs: ANSWER_MS, speedFactor: 8, detectionDelayMs: 100 });
    haproxy = Haproxy.start();
    fleet = new Fleet(haproxy, replicaEnv(model.url));
    const since = performance.now();
    // No replica yet: every slot fails its first check.
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => haproxy.reached(slotName(i), 'DOWN', since, 10_000)));
    await Promise.all([0, 1, 2].map((i) => fleet.start(i)));
  });

  after(() => {
    stopWatching();
    fleet?.stopAll();
    haproxy?.stop();
    model?.child.kill('SIGTERM');
    for (const child of children) child.kill('SIGKILL');
  });

  test('rolling restart under 60 concurrent calls: 0 dropped, bounds held, no new call on a draining replica', async () => {
    const lag = loopLag();
    const calls: FleetCall[] = [];
    const running = new Set<Promise<void>>();
    let pumping = true;
    // 60 calls at all times: each that ends is replaced by a new one until the restart is over.
    const startCall = (): Promise<void> => {
      const call = new FleetCall();
      calls.push(call);
      let connected!: () => void;
      const connection = new Promise<void>((resolve) => (connected = resolve));
      const run: Promise<void> = call.run(ANSWER_MS, 1, () => connected()).finally(() => {
        connected();
        running.delete(run);
        if (pumping) void startCall();
      });
      running.add(run);
      return connection;
    };
    // Calls arrive over 6 s, not in one instant (their answers would all start in the same tick).
    const firstConnections: Array<Promise<void>> = [];
    for (let i = 0; i < 60; i++) {
      firstConnections.push(startCall());
      await delay(100);
    }
    await Promise.all(firstConnections);
    // Every first call is hearing its answer before the first SIGTERM.
    await hearing(calls.slice(0, 60), 0);

    const drainAt = new Map<string, number>();
    const restartStartedAt = performance.now();
    for (const [old, replacement] of [[0, 3], [1, 4], [2, 5]] as const) {
      await fleet.start(replacement);
      drainAt.set(slotName(old), await fleet.drain(slotName(old)));
    }
    // New calls keep coming until the last old replica has drained and exited.
    const exits = await Promise.all([0, 1, 2].map((i) => fleet.replicas.get(slotName(i))!.exited(ANSWER_MS + 30_000)));
    const restartMs = performance.now() - restartStartedAt;
    pumping = false;
    while (running.size > 0) await Promise.all(running);

    const s = summarise(calls);
    const landedWhileDraining = calls.filter((c) => drainAt.has(c.server) && c.connectedAt > drainAt.get(c.server)!);
    const stats = await haproxy.stats();
    const retries = stats.filter((r) => r.svname?.startsWith('vw')).reduce((sum, r) => sum + Number(r.wretr || 0) + Number(r.wredis || 0), 0);
    console.log(
      `# rolling restart: ${calls.length} calls (60 concurrent), dropped ${s.dropped}, refused ${s.refused}, unfinished ${s.unfinished}, ` +
        `landed on a draining replica ${landedWhileDraining.length}; max buffered ${s.maxBufferedMs.toFixed(0)} ms (window ${WINDOW_MS}), underruns ${s.underruns}; ` +
        `restart ${(restartMs / 1000).toFixed(1)} s to the last old replica's exit; HAProxy retries+redispatches ${retries}; calls per replica ${JSON.stringify(byServer(calls))}; ${lag.read()}`,
    );
    console.log(`# ${cpuReport(fleet, haproxy, model.child)}`);
    assertClean('rolling restart', s);
    assert.equal(landedWhileDraining.length, 0);
    for (const exit of exits) assert.deepEqual([exit.code, exit.signal], [0, null], 'each old replica exited by itself once its calls ended');
    for (const name of ['vw4', 'vw5', 'vw6']) assert.ok((byServer(calls)[name] ?? 0) > 0, `${name} took new calls`);
  });

  test('kill -9 of one replica: only its calls end; new calls avoid it within one check interval and none fails', async () => {
    const { calls, connected, done } = launch(30, ANSWER_MS);
    await connected;
    await hearing(calls, 200);
    const victim = Object.entries(byServer(calls)).sort((a, b) => b[1] - a[1])[0]![0];
    const killAt = performance.now();
    fleet.replicas.get(victim)!.kill('SIGKILL');

    // New calls while HAProxy finds out: one every 50 ms, for one and a half check intervals.
    const probes: Array<{ at: number; server: string; refused?: string }> = [];
    const downAt = haproxy.reached(victim, 'DOWN', killAt, 10_000);
    for (let i = 0; i < (CHECK_INTER_MS * 1.5) / 50; i++) {
      const at = performance.now();
      const probe = FakeTwilioCaller.connect(`ws://127.0.0.1:${LB_PORT}/twilio/media`, { autoStart: false, headers: signedHeaders() }).then(
        (c) => {
          probes.push({ at, server: String(c.upgradeHeaders['x-served-by'] ?? '') });
          c.terminate();
        },
        (err: Error) => void probes.push({ at, server: '', refused: err.message }),
      );
      await Promise.all([probe, delay(50)]);
    }
    const avoidedAfterMs = (await downAt) - killAt;
    await done;
    // A replica that dies with no calls is found without any caller's connection failing first.
    const idleVictim = fleet.live()[0]!;
    const idleKillAt = performance.now();
    fleet.replicas.get(idleVictim)!.kill('SIGKILL');
    const checkOnlyMs = (await haproxy.reached(idleVictim, 'DOWN', idleKillAt, 5_000)) - idleKillAt;
    await Promise.all([victim, idleVictim].map((name) => fleet.replicas.get(name)!.exited(5_000)));

    const theirs = calls.filter((c) => c.server === victim);
    const others = summarise(calls.filter((c) => c.server !== victim));
    const refusedProbes = probes.filter((p) => p.refused !== undefined);
    console.log(
      `# kill -9 of ${victim}: its ${theirs.length} calls ended (close codes ${JSON.stringify([...new Set(theirs.map((c) => c.caller?.closeInfo?.code))])}), ` +
        `the other ${calls.length - theirs.length} calls: dropped ${others.dropped}, max buffered ${others.maxBufferedMs.toFixed(0)} ms, underruns ${others.underruns}; ` +
        `HAProxy marked it DOWN ${avoidedAfterMs.toFixed(0)} ms after the kill (check interval ${CHECK_INTER_MS} ms); new calls meanwhile: ${probes.length}, refused ${refusedProbes.length}, on the dead replica ${probes.filter((p) => p.server === victim).length}; ` +
        `a replica killed with no calls: DOWN after ${checkOnlyMs.toFixed(0)} ms`,
    );
    assert.ok(theirs.length > 0);
    for (const call of theirs) assert.equal(call.dropped, true, 'every call of the killed replica ended');
    assertClean('the other replicas', others);
    assert.ok(avoidedAfterMs <= CHECK_INTER_MS, `new calls avoided the dead replica only after ${avoidedAfterMs} ms`);
    assert.deepEqual(refusedProbes, [], 'no new call failed while HAProxy found out');
    assert.equal(probes.filter((p) => p.server === victim).length, 0);
    // The next check comes at most one interval after the kill; 50 ms for HAProxy's report to arrive.
    assert.ok(checkOnlyMs <= CHECK_INTER_MS + 50, `health check took ${checkOnlyMs} ms`);
  });

  test('abuse: 2 000 sockets that never start and 1 000 bad webhooks/s for 10 s; legitimate calls keep their bounds and new ones connect', async () => {
    // Back to three replicas, in the slots of exited ones.
    await fleet.ensureLive(3);
    assert.equal(fleet.live().length, 3);
    const lag = loopLag();
    const legit = launch(20, ANSWER_MS, 3); // three questions each: ≈ 17 s, longer than the abuse
    await legit.connected;
    await hearing(legit.calls, 200);

    const abuse = runAbuser({
      target: `127.0.0.1:${LB_PORT}`,
      idleSockets: 2_000,
      idleFrom: ['127.0.0.2', '127.0.0.3'],
      idleConcurrency: 100,
      idleHeaders: signedHeaders(),
      webhooksPerSecond: 1_000,
      webhookSeconds: 10,
      webhookFrom: ['127.0.0.4', '127.0.0.5'],
    });
    children.push(abuse.child);
    // New legitimate calls during the abuse: one a second.
    const late: Array<{ calls: FleetCall[]; done: Promise<void>; askedAt: number }> = [];
    for (let i = 0; i < 10; i++) {
      await delay(1_000);
      const askedAt = performance.now();
      const { calls, done } = launch(1, ANSWER_MS);
      late.push({ calls, done, askedAt });
    }
    const report = await abuse.report;
    await Promise.all([legit.done, ...late.map((l) => l.done)]);

    const running = summarise(legit.calls);
    const newcomers = summarise(late.flatMap((l) => l.calls));
    const connectMs = late.map((l) => l.calls[0]!.connectedAt - l.askedAt);
    const statuses = report.webhookStatuses;
    console.log(
      `# abuse: idle sockets ${report.idleOpened} upgraded (then closed ${JSON.stringify(report.idleCloseCodes)}), refused ${JSON.stringify(report.idleRefused)}, errors ${report.idleErrors}; ` +
        `webhooks ${report.webhooksSent} (${JSON.stringify(statuses)}, ${report.webhooksBehind} sent > 1 s late); the attacker used ${report.cpuSeconds.toFixed(1)} CPU s of the same 2 cores`,
    );
    console.log(
      `# abuse: 20 running calls dropped ${running.dropped}, max buffered ${running.maxBufferedMs.toFixed(0)} ms, underruns ${running.underruns}; ` +
        `10 new calls refused ${newcomers.refused}, dropped ${newcomers.dropped}, connect ${Math.min(...connectMs).toFixed(0)}–${Math.max(...connectMs).toFixed(0)} ms, max buffered ${newcomers.maxBufferedMs.toFixed(0)} ms, underruns ${newcomers.underruns}; ${lag.read()}`,
    );
    console.log(`# ${cpuReport(fleet, haproxy, model.child)}`);
    assertClean('running calls', running);
    assertClean('new calls', newcomers);
    assert.equal(report.idleOpened + Object.values(report.idleRefused).reduce((a, b) => a + b, 0) + report.idleErrors, 2_000);
    assert.deepEqual(Object.keys(report.idleCloseCodes), report.idleOpened > 0 ? ['4020'] : [], 'every upgraded idle socket was closed for not starting');
    assert.deepEqual(Object.keys(report.idleRefused).filter((s) => s !== '429' && s !== '503'), [], 'idle sockets were only rate-limited or refused for capacity');
    assert.equal(report.webhooksSent, 10_000);
    assert.deepEqual(Object.keys(statuses).filter((s) => s !== '403' && s !== '429').sort(), [], 'bad webhooks got 403 or 429, never a 5xx or an error');
    assert.ok(Math.max(...connectMs) < START_TIMEOUT_MS, 'new legitimate calls connected promptly');
  });
});
