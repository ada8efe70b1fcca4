/**
 * `npm run bench:netimpair`: barge-in and playout under real impairment (../shared/netimpair),
 * every run recorded (bench/results/netimpair.json; the figures go to docs/bench-netimpair.md).
 *
 *   sudo npm run bench:netimpair -- [--scenario a,b,c] [--runs N] [--window 800|auto] [--bargein-at MS]
 *     [--server-sysctl net.ipv4.tcp_<name>=<n> ...]   (the gateway host's TCP settings, e.g. thin-stream timeouts)
 *     [--gateway-env KEY=value ...]                    (gateway settings, e.g. START_CUSHION_MS=0 for an A/B)
 *     [--click-ms N]                                   (a click instead of speech: a local barge-in's false start)
 *
 * Scenarios (issue 14, part 2):
 *   a  RTT 100 ms, 5 % loss each way, cubic                       (default 10 runs)
 *   b  the same + 30 ms jitter each way                            (default 10 runs)
 *   c  16 kB/s towards the caller, 100 ms each way                 (default 5 runs)
 *      (the uplink is not rate-limited: the caller's own audio, Twilio's JSON μ-law at ~14 kB/s,
 *      would not fit in 16 kB/s beside the echoes and ACKs — measured: no answer played)
 *
 * Per scenario the link is brought up once (instance vw_tr1, subnets 10.200.170–171; BENCH_NETIMPAIR_NAME / BENCH_NETIMPAIR_NET override them) with one
 * gateway (fake OpenAI Realtime on its loopback: only the caller's link is impaired) in the server
 * namespace; each run is one call from a fresh caller in the client namespace
 * (bench/netimpair/caller.ts): a question, the answer played for `--bargein-at` ms (default
 * 10 000), then the caller speaks over it. Per run: underruns while the answer streamed, stale
 * audio heard after the caller began speaking, and the truncate error — the model's
 * `audio_end_ms` minus what the caller had actually played when the `clear` reached it.
 * With `--click-ms` (and `--gateway-env LOCAL_BARGE_IN_MS=40`) the caller clicks instead of
 * speaking, too short for the model's VAD: per run, how long the caller heard nothing (clear → the
 * answer resumed) and the seam (all of the answer the caller played − its length: a repeat is
 * positive, a skip negative), and underruns after the resume; no truncate is expected.
 * The instance is always taken down at the end.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChildScript, REPO_ROOT, cannotRun, lossCounters, netimpair, type JsonLine } from '../../test/e2e/netimpair/netimpair-cli.js';
import { printTable, writeResults, type Row } from '../report.js';
import { median, staleBreakdown, type BenchCallerResult, type RunFigures } from './report.js';

interface Scenario {
  readonly title: string;
  readonly impairment: readonly string[];
  readonly rttMs: number;
  readonly runs: number;
}

const SCENARIOS: Record<string, Scenario> = {
  a: { title: 'RTT 100 ms, 5 % loss each way, cubic', impairment: ['--rtt', '100ms', '--loss', '5%', '--cc', 'cubic'], rttMs: 100, runs: 10 },
  b: { title: 'RTT 100 ms, 5 % loss, 30 ms jitter each way, cubic', impairment: ['--rtt', '100ms', '--jitter', '30ms', '--loss', '5%', '--cc', 'cubic'], rttMs: 100, runs: 10 },
  c: { title: '16 kB/s towards the caller, 100 ms each way, cubic', impairment: ['--delay', '100ms', '--down-rate', '16kbps', '--cc', 'cubic'], rttMs: 200, runs: 5 },
};

/** Instance and subnet; overridable so two benches (or a bench beside the e2e test) never share one. */
const NAME = process.env.BENCH_NETIMPAIR_NAME ?? 'vw_tr1';
const NET = process.env.BENCH_NETIMPAIR_NET ?? '170';
const ANSWER_MS = 15_000;
const SPEED_FACTOR = 5;
const TRUNCATE_GOAL_MS = 40;
const UP_TIMEOUT_MS = 5 * 60_000;
const RUN_DEADLINE_MS = 90_000;

interface Args {
  readonly scenarios: string[];
  readonly runs: number | undefined;
  readonly window: string;
  readonly bargeInAtMs: number;
  /** `key=value` kernel settings applied in the gateway's namespace after the link is up (a gateway host's tuning). */
  readonly serverSysctls: readonly string[];
  /** `KEY=value` gateway settings on top of the bench's (e.g. START_CUSHION_MS=0 for an A/B). */
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /** A click of this many ms instead of the caller's speech (a false start), else undefined. */
  readonly clickMs: number | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const scenarios = (value('--scenario') ?? 'a,b,c').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of scenarios) if (SCENARIOS[s] === undefined) throw new Error(`unknown scenario ${s} (a, b or c)`);
  const runs = value('--runs') === undefined ? undefined : Number(value('--runs'));
  if (runs !== undefined && !(Number.isSafeInteger(runs) && runs >= 1 && runs <= 100)) throw new Error('--runs must be 1–100');
  const window = value('--window') ?? '800';
  if (window !== 'auto' && !(Number(window) >= 100)) throw new Error('--window must be a number of ms or auto');
  const bargeInAtMs = Number(value('--bargein-at') ?? 10_000);
  if (!(bargeInAtMs >= 1_000 && bargeInAtMs <= ANSWER_MS - 2_000)) throw new Error(`--bargein-at must be 1000–${ANSWER_MS - 2_000}`);
  /** Every value of a flag that may be given more than once. */
  const values = (flag: string): string[] => argv.flatMap((arg, at) => (arg === flag ? [argv[at + 1] ?? ''] : []));
  const serverSysctls = values('--server-sysctl');
  for (const setting of serverSysctls) {
    if (!/^net\.ipv4\.tcp_[a-z_]+=[0-9]+$/.test(setting)) throw new Error(`--server-sysctl takes net.ipv4.tcp_<name>=<number>, not ${JSON.stringify(setting)}`);
  }
  const gatewayEnv: Record<string, string> = {};
  for (const raw of values('--gateway-env')) {
    const setting = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw);
    if (setting === null) throw new Error(`--gateway-env takes KEY=value, not ${JSON.stringify(raw)}`);
    gatewayEnv[setting[1]!] = setting[2]!;
  }
  const clickMs = value('--click-ms') === undefined ? undefined : Number(value('--click-ms'));
  if (clickMs !== undefined && !(Number.isSafeInteger(clickMs) && clickMs >= 20 && clickMs <= 90)) throw new Error('--click-ms must be 20–90 (the fake model\'s VAD wants 100)');
  return { scenarios, runs, window, bargeInAtMs, serverSysctls, gatewayEnv, clickMs };
}

function git(args: readonly string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

/** One call through the impaired link; the truncate lines the gateway printed during it are its own. */
async function oneRun(run: number, url: string, args: Args, truncates: JsonLine[], timings: JsonLine[]): Promise<RunFigures> {
  const before = truncates.length;
  const timingsBefore = timings.length;
  const caller = new ChildScript(NAME, 'client', 'bench/netimpair/caller.ts', [url, JSON.stringify({ bargeInAtMs: args.bargeInAtMs, speechMs: 1_000, clickMs: args.clickMs, answerMs: ANSWER_MS })], RUN_DEADLINE_MS);
  try {
    const result = (await caller.waitFor('result', RUN_DEADLINE_MS)) as unknown as BenchCallerResult;
    await caller.exited;
    const mine = truncates.slice(before);
    // The barge-in's stamps: the last gateway barge-in before the clear reached the caller.
    const stamps = timings.slice(timingsBefore).filter((t) => Number(t.clearWrittenAt) <= result.clearAtWall).at(-1);
    const truncate = mine[0];
    const previous = truncates[before - 1];
    const source = truncate === undefined ? undefined : changedSource(previous, truncate);
    const truncateMs = truncate === undefined ? undefined : Number(truncate.audioEndMs);
    const uncertaintyMs = truncate === undefined ? undefined : Number(truncate.uncertaintySumMs) - Number(previous?.uncertaintySumMs ?? 0);
    // A false start must resume the answer and truncate nothing; a barge-in truncates once.
    const error = args.clickMs === undefined
      ? (mine.length === 1 ? undefined : `${mine.length} truncates in the run`)
      : (mine.length !== 0 ? `${mine.length} truncates after a click` : result.resume === undefined ? 'the answer did not resume' : undefined);
    return {
      run, ok: error === undefined,
      ...(error === undefined ? {} : { error }),
      ...(result.resume === undefined ? {} : { resume: result.resume }),
      underruns: result.underruns, underrunMs: result.underrunMs, longestUnderrunMs: result.longestUnderrunMs,
      ...(result.underrunsAtMs.length === 0 ? {} : { underrunsAtMs: result.underrunsAtMs }),
      firstAudioMs: result.firstAudioMs, maxBufferedMs: result.maxBufferedMs, staleMs: result.staleMs, heardAtClearMs: result.heardAtClearMs,
      ...(truncateMs === undefined ? {} : { truncateMs, truncateErrorMs: truncateMs - result.heardAtClearMs }),
      ...(source === undefined ? {} : { truncateSource: source }),
      ...(uncertaintyMs === undefined ? {} : { uncertaintyMs }),
      clearAfterMs: result.clearAfterMs, nextAnswerAfterMs: result.nextAnswerAfterMs, violations: result.violations,
      // The harness stamps the clear at the model's interrupt (test/e2e/netimpair/barge-in-timing.ts):
      // since local barge-in holds the answer (eighth round) that is the model's confirmation, not the
      // clear, so a series with LOCAL_BARGE_IN_MS gets no breakdown.
      ...(stamps === undefined || localBargeIn(args) ? {} : { stale: staleBreakdown(result, stamps as unknown as Parameters<typeof staleBreakdown>[1]) }),
      maxTickLateMs: result.maxTickLateMs,
    };
  } catch (err) {
    return { run, ok: false, error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! };
  } finally {
    await caller.stop();
  }
}

function localBargeIn(args: Args): boolean {
  return Number(args.gatewayEnv.LOCAL_BARGE_IN_MS ?? 0) > 0;
}

/** The settle source whose running count went up between two truncate lines. */
function changedSource(previous: JsonLine | undefined, current: JsonLine): string | undefined {
  const now = current.sources as Record<string, number>;
  const then = (previous?.sources ?? {}) as Record<string, number>;
  return Object.keys(now).find((key) => now[key]! > (then[key] ?? 0));
}

async function runScenario(key: string, scenario: Scenario, args: Args): Promise<Record<string, unknown>> {
  const runs = args.runs ?? scenario.runs;
  const upArgs = ['up', ...scenario.impairment, '--net', NET];
  let up = await netimpair(NAME, upArgs, UP_TIMEOUT_MS);
  if (up.code !== 0 && !up.timedOut) up = await netimpair(NAME, upArgs, UP_TIMEOUT_MS);
  if (up.code !== 0) throw new Error(`netimpair up failed: ${up.stderr.trim()}`);
  for (const setting of args.serverSysctls) {
    // Namespaced (net.ipv4.tcp_*): only the gateway's side of this link changes, and `down` discards it.
    const set = await netimpair(NAME, ['exec', 'server', '--', 'sysctl', '-w', setting], 10_000);
    if (set.code !== 0) {
      await netimpair(NAME, ['down'], 60_000);
      throw new Error(`sysctl ${setting} in the server namespace failed: ${set.stderr.trim()}`);
    }
  }
  const figures: RunFigures[] = [];
  const truncates: JsonLine[] = [];
  const timings: JsonLine[] = [];
  const env: Record<string, string> = { MAX_QUEUED_AUDIO_MS: '30000', CREDIT_WINDOW_MS: args.window, ...args.gatewayEnv };
  const gateway = new ChildScript(
    NAME, 'server', 'test/e2e/netimpair/gateway-side.ts',
    // The gateway lives as long as the series may take (a series of false starts runs ≈ 200 s).
    [JSON.stringify(env), JSON.stringify({ answerMs: ANSWER_MS, speedFactor: SPEED_FACTOR, selfDeadlineMs: (runs + 2) * RUN_DEADLINE_MS })],
    (runs + 2) * RUN_DEADLINE_MS, (line) => {
      if (line.type === 'truncate') truncates.push(line);
      if (line.type === 'barge-in-timing') timings.push(line);
    },
  );
  let status = '';
  try {
    const serverIp = (await netimpair(NAME, ['addr', 'server'], 10_000)).stdout.trim();
    const listening = await gateway.waitFor('listening', 30_000);
    const url = `ws://${serverIp}:${Number(listening.port)}/twilio/media`;
    for (let run = 1; run <= runs; run++) {
      const startedAt = performance.now();
      const result = await oneRun(run, url, args, truncates, timings);
      figures.push(result);
      console.log(`# ${key} run ${run}/${runs} (${((performance.now() - startedAt) / 1000).toFixed(1)} s): ${JSON.stringify(result)}`);
    }
    status = (await netimpair(NAME, ['status'], 20_000)).stdout;
  } finally {
    gateway.endInput();
    await gateway.waitFor('final', 15_000).catch(() => undefined);
    await gateway.stop();
    const down = await netimpair(NAME, ['down'], 60_000);
    if (down.code !== 0) console.error(`netimpair down failed: ${down.stderr.trim()}`);
  }
  const ok = figures.filter((f) => f.ok);
  const errors = ok.map((f) => Math.abs(f.truncateErrorMs ?? Infinity));
  const summary = {
    runs: figures.length,
    completed: ok.length,
    runsWithoutUnderrun: figures.filter((f) => f.underruns === 0).length,
    medianStaleMs: median(ok.map((f) => f.staleMs ?? NaN)),
    staleGoalMs: scenario.rttMs + 150,
    medianAbsTruncateErrorMs: median(errors),
    maxAbsTruncateErrorMs: errors.length === 0 ? undefined : Math.max(...errors),
    truncatesWithin40Ms: errors.filter((e) => e <= TRUNCATE_GOAL_MS).length,
    loss: lossCounters(status),
    ...(args.clickMs === undefined ? {} : { resume: resumeSummary(ok) }),
  };
  return {
    title: scenario.title, impairment: scenario.impairment, window: args.window, bargeInAtMs: args.bargeInAtMs, answerMs: ANSWER_MS,
    ...(args.serverSysctls.length === 0 ? {} : { serverSysctls: args.serverSysctls }),
    ...(Object.keys(args.gatewayEnv).length === 0 ? {} : { gatewayEnv: args.gatewayEnv }),
    ...(args.clickMs === undefined ? {} : { clickMs: args.clickMs }), summary, runs: figures,
  };
}

/** A false-start series: the caller's gap, the seam, underruns after the resume. */
function resumeSummary(ok: readonly RunFigures[]): Record<string, unknown> {
  const resumed = ok.flatMap((f) => (f.resume === undefined ? [] : [f.resume]));
  const seams = resumed.map((r) => Math.abs(r.seamMs));
  return {
    medianGapMs: median(resumed.map((r) => r.gapMs)),
    medianSeamMs: median(resumed.map((r) => r.seamMs)),
    maxAbsSeamMs: seams.length === 0 ? undefined : Math.max(...seams),
    seamsWithin40Ms: seams.filter((e) => e <= TRUNCATE_GOAL_MS).length,
    runsWithoutUnderrunAfterResume: resumed.filter((r) => r.underruns === 0).length,
  };
}

function rowsOf(key: string, result: Record<string, unknown>): Row[] {
  return (result.runs as RunFigures[]).map((f) => ({
    scenario: key, run: f.run, underruns: f.underruns ?? '—', 'longest underrun ms': f.longestUnderrunMs ?? '—',
    'stale ms': f.staleMs ?? '—', 'heard at clear ms': f.heardAtClearMs ?? '—',
    ...(f.resume === undefined
      ? { 'truncate ms': f.truncateMs ?? '—', 'error ms': f.truncateErrorMs ?? '—', source: f.truncateSource ?? f.error ?? '—' }
      : { 'gap ms': f.resume.gapMs, 'seam ms': f.resume.seamMs, 'underruns after': f.resume.underruns, error: f.error ?? '—' }),
  }));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const why = cannotRun();
  if (why !== undefined) throw new Error(`cannot run: ${why}`);
  const resultsPath = join(REPO_ROOT, 'bench/results/netimpair.json');
  let previous: Record<string, unknown> = {};
  // Series are added to what the file holds: every run ever recorded stays.
  try {
    previous = (JSON.parse(readFileSync(resultsPath, 'utf8')) as { data?: { scenarios?: Record<string, unknown> } }).data?.scenarios ?? {};
  } catch {
    previous = {};
  }
  const branch = git(['rev-parse', '--abbrev-ref', 'HEAD']);
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const scenarios: Record<string, unknown> = { ...previous };
  for (const key of args.scenarios) {
    // Every series is kept: `<scenario>-window-<w>@<commit>`, a re-run on the same commit adds `#2`, …
    const tuning = [
      ...args.serverSysctls.map((setting) => setting.replace('net.ipv4.', '')),
      ...Object.entries(args.gatewayEnv).map(([k, v]) => `${k}=${v}`),
      ...(args.clickMs === undefined ? [] : [`click${args.clickMs}`]),
    ].map((setting) => `+${setting}`).join('');
    const base = `${key}-window-${args.window}${tuning}@${commit}`;
    let id = base;
    for (let n = 2; scenarios[id] !== undefined; n++) id = `${base}#${n}`;
    const result = await runScenario(key, SCENARIOS[key]!, args);
    scenarios[id] = { ...result, branch, commit, at: new Date().toISOString() };
    printTable(`${id}: ${SCENARIOS[key]!.title} (${branch} ${commit})`, rowsOf(key, result));
    console.log(`\nsummary ${id}: ${JSON.stringify(result.summary)}`);
    // Written after every scenario: a later failure keeps what was measured.
    writeResults('netimpair', { scenarios });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
