/**
 * The parent's side of ../shared/netimpair: runs the CLI with a deadline, and starts the test's
 * child scripts inside a namespace (`netimpair exec`) and reads their JSON lines.
 *
 * A process cannot move itself into a network namespace, so each side of the call is a child that
 * reports over stdout. Everything here is bounded: kept output, lines, and every wait's duration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseLine } from './report.js';

/** The repo root: tests run with it as cwd, and CI clones shared/ beside it. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NETIMPAIR = resolve(REPO_ROOT, '../shared/netimpair/netimpair');

const KEEP_CHARS = 16_000;
const KILL_GRACE_MS = 2_000;

/** Keeps the last `cap` characters written to it. */
class Tail {
  private text = '';
  constructor(private readonly cap = KEEP_CHARS) {}
  add(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.cap);
  }
  toString(): string {
    return this.text;
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** SIGTERM now, SIGKILL after a grace period if it is still there. */
function terminate(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, KILL_GRACE_MS);
  timer.unref();
}

/** Runs `netimpair --name <name> <args…>`; kills it after `timeoutMs`. Never rejects on a bad exit. */
export function netimpair(name: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(NETIMPAIR, ['--name', name, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = new Tail();
    const stderr = new Tail();
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => stdout.add(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => stderr.add(c));
    const timer = setTimeout(() => {
      timedOut = true;
      terminate(child);
    }, timeoutMs);
    child.on('error', (err) => stderr.add(`spawn failed: ${err.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout: stdout.toString(), stderr: stderr.toString(), timedOut });
    });
  });
}

/** Why netimpair cannot run here, or undefined when it can be tried. */
export function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return `netimpair needs Linux network namespaces (platform ${process.platform})`;
  if (process.getuid?.() !== 0) return 'netimpair needs root (network namespaces, nftables); CI runs as root';
  if (!existsSync(NETIMPAIR)) return `${NETIMPAIR} not found (CI clones shared/ beside the repo)`;
  return undefined;
}

export type JsonLine = { type: string } & Record<string, unknown>;

/**
 * A test script run in a namespace: `netimpair exec <side> -- node --import tsx <script> <args…>`.
 * Its stdout JSON lines are handed to `onLine` (the parent folds them; nothing is kept here but the
 * last few), other output is kept as a bounded tail for failure messages. It is killed at
 * `deadlineMs`.
 */
export class ChildScript {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly output = new Tail();
  private readonly waiters = new Set<() => void>();
  private readonly lines: JsonLine[] = [];
  private readonly deadline: NodeJS.Timeout;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  timedOut = false;

  constructor(
    name: string,
    side: 'client' | 'server',
    script: string,
    args: readonly string[],
    deadlineMs: number,
    private readonly onLine: (line: JsonLine) => void = () => undefined,
  ) {
    this.child = spawn(
      NETIMPAIR,
      ['--name', name, 'exec', side, '--', process.execPath, '--import', 'tsx', script, ...args],
      { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.deadline = setTimeout(() => {
      this.timedOut = true;
      terminate(this.child);
    }, deadlineMs);
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.handleLine(line));
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => this.output.add(c));
    this.child.stdin!.on('error', (err) => this.output.add(`[stdin: ${err.message}]\n`));
    this.child.on('error', (err) => this.output.add(`[spawn failed: ${err.message}]\n`));
    this.exited = new Promise((done) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(this.deadline);
        this.exitInfo = { code, signal };
        this.wake();
        done(this.exitInfo);
      });
    });
  }

  /** The non-JSON output (stderr and stray stdout), last 16 000 characters. */
  get log(): string {
    return this.output.toString();
  }

  /** Resolves with the first line (from now or among the last 64) of this `type`; rejects at exit or timeout. */
  waitFor(type: string, timeoutMs: number): Promise<JsonLine> {
    return new Promise((resolveLine, reject) => {
      const check = (): boolean => {
        const line = this.lines.find((l) => l.type === type);
        if (line !== undefined) {
          resolveLine(line);
          return true;
        }
        const failed = this.lines.find((l) => l.type === 'error');
        if (failed !== undefined || this.exitInfo !== undefined) {
          const why = failed !== undefined ? String(failed.message) : `exited ${this.exitInfo?.code ?? this.exitInfo?.signal}`;
          reject(new Error(`${type} never came: ${why}${this.timedOut ? ' (killed at its deadline)' : ''}\n${this.log}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${type} not received within ${timeoutMs} ms\n${this.log}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Closes its stdin (the gateway side's cue to report and exit). */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** Ends it now (SIGTERM, then SIGKILL); resolves at exit. */
  async stop(): Promise<void> {
    terminate(this.child);
    await this.exited;
  }

  private handleLine(line: string): void {
    const parsed = parseLine(line);
    if (parsed === undefined) {
      this.output.add(`${line}\n`);
      return;
    }
    this.onLine(parsed);
    // Samples are many and folded by onLine; only the other kinds are kept for waitFor.
    if (parsed.type === 'sample') return;
    this.lines.push(parsed);
    if (this.lines.length > 64) this.lines.shift();
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Loss counters from `netimpair status` (`up_in: 123 packets` …), by name. */
export function lossCounters(status: string): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const match of status.matchAll(/^\s+(up_in|up_loss|down_in|down_loss): (\d+) packets/gm)) {
    counters[match[1]!] = Number(match[2]);
  }
  return counters;
}

/** TCP OutSegs and RetransSegs of a namespace, from `cat /proc/net/snmp` output. */
export function tcpSegments(snmp: string): { outSegs: number; retransSegs: number } | undefined {
  const rows = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = rows[0]?.split(/\s+/);
  const values = rows[1]?.split(/\s+/);
  if (names === undefined || values === undefined) return undefined;
  const at = (key: string): number => Number(values[names.indexOf(key)]);
  return { outSegs: at('OutSegs'), retransSegs: at('RetransSegs') };
}
