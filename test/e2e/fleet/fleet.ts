/**
 * The fleet end-to-end harness: a real HAProxy (deploy/haproxy/haproxy.cfg, unchanged) in front of
 * gateway processes (src/server/main.ts) in six fixed slots, a fake Realtime model in a child
 * process, and fake Twilio callers in this process. Fixed ports (this test's range 18000–18999):
 * HAProxy 18080, its stats 18081, replica slots 18101–18106.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Conditions } from '../../helpers/conditions.js';
import { GatewayProcess } from '../../helpers/gateway-process.js';
import { FakeTwilioCaller, toneSamples, type DryPeriod } from '../../fakes/twilio-caller.js';
import { computeSignature } from '../../../src/transports/twilio/signature.js';

export const LB_PORT = 18080;
export const STATS_PORT = 18081;
export const SLOT_PORTS = [18101, 18102, 18103, 18104, 18105, 18106] as const;
export const CHECK_INTER_MS = 1000;
export const AUTH_TOKEN = 'fleet-test-auth-token';
export const PUBLIC_URL = 'https://voice.example';
const STREAM_URL = 'wss://voice.example/twilio/media';

/** One server state change HAProxy reported (stderr), with when this process read it. */
export interface ServerEvent {
  readonly server: string;
  readonly state: 'UP' | 'DOWN';
  readonly at: number;
}

export class Haproxy {
  readonly events: ServerEvent[] = [];
  readonly stderr: string[] = [];
  exitCode: number | null | undefined;
  private readonly conditions = new Conditions('haproxy');

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (this.stderr.length < 5000) this.stderr.push(line);
      const m = /Server voicewire\/(vw\d) is (UP|DOWN)/.exec(line);
      if (m) this.events.push({ server: m[1]!, state: m[2] as 'UP' | 'DOWN', at: performance.now() });
      this.conditions.notify();
    });
    child.stdout!.resume();
    child.once('exit', (code) => {
      this.exitCode = code;
      this.conditions.close(`exited with ${code} (${this.stderr.slice(-3).join(' | ')})`);
    });
  }

  static start(): Haproxy {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      VW_LISTEN: `127.0.0.1:${LB_PORT}`,
      VW_STATS_LISTEN: `127.0.0.1:${STATS_PORT}`,
      VW_CHECK_INTER: `${CHECK_INTER_MS}ms`,
    };
    SLOT_PORTS.forEach((port, i) => (env[`VW_SERVER_${i + 1}`] = `127.0.0.1:${port}`));
    const child = spawn('haproxy', ['-db', '-f', 'deploy/haproxy/haproxy.cfg'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Haproxy(child);
  }

  /** The latest reported state of `server` (HAProxy starts every server UP until a check fails). */
  state(server: string): 'UP' | 'DOWN' {
    return this.events.findLast((e) => e.server === server)?.state ?? 'UP';
  }

  /** Waits until `server` is reported `state` after time `since`; resolves with when it was. */
  async reached(server: string, state: 'UP' | 'DOWN', since: number, timeoutMs: number): Promise<number> {
    const match = (e: ServerEvent): boolean => e.server === server && e.state === state && e.at >= since;
    await this.conditions.until(() => this.events.some(match), timeoutMs, `${server} ${state}`);
    return this.events.find(match)!.at;
  }

  /** The stats page as rows keyed by column (`svname`, `status`, `scur`, `stot`, `wretr`, `wredis`…). */
  async stats(): Promise<Array<Record<string, string>>> {
    const text = await (await fetch(`http://127.0.0.1:${STATS_PORT}/stats;csv`)).text();
    const [header, ...rows] = text.trim().split('\n');
    const names = header!.replace(/^# /, '').split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [names[i] ?? String(i), v])));
  }

  stop(): void {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
  }
}

/** Replica name in HAProxy for slot index i (0-based). */
export function slotName(i: number): string {
  return `vw${i + 1}`;
}

export class Fleet {
  readonly replicas = new Map<string, GatewayProcess>();
  /** Every replica ever started (replaced slots included), for CPU accounting. */
  readonly started: GatewayProcess[] = [];

  constructor(
    readonly haproxy: Haproxy,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts a gateway in slot `i` and waits until HAProxy sends it traffic (UP after its checks). */
  async start(i: number): Promise<GatewayProcess> {
    const name = slotName(i);
    const since = performance.now();
    const gw = GatewayProcess.start({ ...this.env, PORT: String(SLOT_PORTS[i]) });
    this.replicas.set(name, gw);
    this.started.push(gw);
    await gw.listening();
    if (this.haproxy.state(name) === 'DOWN') await this.haproxy.reached(name, 'UP', since, 15_000);
    return gw;
  }

  /** SIGTERM to the replica in slot `name`; resolves with when the replica had begun its drain (its log line arrived). */
  async drain(name: string): Promise<number> {
    const gw = this.replicas.get(name)!;
    gw.kill('SIGTERM');
    return gw.logged((l) => l.signal === 'SIGTERM', 10_000, `${name} drain`);
  }

  /** Replicas alive now, by slot name. */
  live(): string[] {
    return [...this.replicas].filter(([, gw]) => gw.exit === undefined).map(([name]) => name);
  }

  /** Starts replicas in free slots (never used, or whose process has exited) until `count` are alive. */
  async ensureLive(count: number): Promise<void> {
    const starting: Array<Promise<GatewayProcess>> = [];
    // `start` registers the new process at once, so `live()` already counts the ones starting.
    for (let i = 0; i < SLOT_PORTS.length && this.live().length < count; i++) {
      const gw = this.replicas.get(slotName(i));
      if (gw === undefined || gw.exit !== undefined) starting.push(this.start(i));
    }
    await Promise.all(starting);
  }

  stopAll(): void {
    for (const gw of this.replicas.values()) gw.kill('SIGKILL');
  }
}

/** The gateway environment every replica gets. */
export function replicaEnv(modelUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: 'test-key',
    OPENAI_REALTIME_URL: modelUrl,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    REQUIRE_SIGNATURES: 'true',
    SESSION_SECRET: 'one-secret-shared-by-every-replica',
    PUBLIC_URL,
    TRUSTED_PROXIES: '127.0.0.1/32',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Starts the fake model in a child process; resolves with its URL and the process. */
export function startModel(options: Record<string, unknown>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/fleet/model-process.ts', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('model process did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`model process exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^model (\S+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child });
    });
  });
}

/** Upgrade headers of a genuine Twilio stream: a valid X-Twilio-Signature for PUBLIC_URL. */
export function signedHeaders(): Record<string, string> {
  return { 'x-twilio-signature': computeSignature(AUTH_TOKEN, STREAM_URL) };
}

/** One fake Twilio call through the load balancer, and what happened to it. */
export class FleetCall {
  caller: FakeTwilioCaller | undefined;
  /** The replica HAProxy sent the upgrade to (its X-Served-By). */
  server = '';
  connectedAt = 0;
  refused: string | undefined;
  /** performance.now() − the caller's own clock (its `at` and DryPeriod times). */
  clockOffset = 0;
  /** Closed by someone other than this caller hanging up. */
  dropped = false;
  finished = false;

  /** Connects (signed), then `questions` times asks and listens to the whole answer of `answerMs`; hangs up. */
  async run(answerMs: number, questions = 1, onConnected?: (call: FleetCall) => void): Promise<void> {
    try {
      this.caller = await FakeTwilioCaller.connect(`ws://127.0.0.1:${LB_PORT}/twilio/media`, {
        headers: signedHeaders(),
        connectTimeoutMs: 10_000,
      });
    } catch (err) {
      this.refused = err instanceof Error ? err.message : String(err);
      return;
    }
    const caller = this.caller;
    this.connectedAt = performance.now();
    this.clockOffset = this.connectedAt - caller.now();
    this.server = String(caller.upgradeHeaders['x-served-by'] ?? '');
    onConnected?.(this);
    try {
      for (let q = 1; q <= questions; q++) {
        await caller.sendSpeech(toneSamples(400));
        await caller.waitUntil(() => caller.playedMs >= q * answerMs - 20, answerMs + 20_000, `answer ${q}`);
      }
      this.finished = true;
    } catch {
      // Closed under us (checked below), or too slow: `finished` stays false.
    }
    if (caller.closeInfo !== undefined) {
      this.dropped = true;
      return;
    }
    await caller.stop();
  }

  /**
   * Most audio the caller held unplayed, and underruns: the player ran dry in the middle of an
   * answer (not between two, when every answer received so far had played to its end).
   */
  bounds(answerMs: number): { maxBufferedMs: number; underruns: DryPeriod[] } {
    const caller = this.caller;
    if (!caller) return { maxBufferedMs: 0, underruns: [] };
    const media = caller.received.toArray().filter((r) => r.event === 'media');
    const receivedMsAt = (t: number): number => media.reduce((sum, r) => (r.at <= t ? sum + (r.bytes ?? 0) / 8 : sum), 0);
    const midAnswer = (u: DryPeriod): boolean => {
      const received = receivedMsAt(u.start);
      return Math.abs(received - Math.round(received / answerMs) * answerMs) > 1;
    };
    return { maxBufferedMs: caller.maxBufferedMs, underruns: caller.underruns.filter(midAnswer) };
  }
}

/** Calls started together: `connected` resolves once each has connected or been refused, `done` once each has ended. */
export function launch(count: number, answerMs: number, questions = 1): { calls: FleetCall[]; connected: Promise<void>; done: Promise<void> } {
  const calls = Array.from({ length: count }, () => new FleetCall());
  const connections: Array<Promise<void>> = [];
  const runs = calls.map((call) => {
    let connected!: () => void;
    connections.push(new Promise<void>((resolve) => (connected = resolve)));
    return call.run(answerMs, questions, () => connected()).finally(() => connected());
  });
  return { calls, connected: Promise.all(connections).then(() => undefined), done: Promise.all(runs).then(() => undefined) };
}

/** CPU seconds a live child process has used so far (user + system, from /proc; 0 once it has exited). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}
