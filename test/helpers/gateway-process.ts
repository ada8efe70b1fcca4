/**
 * The gateway's real entry point (src/server/main.ts under tsx) as a child process: its port, its
 * pino lines (parsed), its exit, and waits on them without sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Conditions } from './conditions.js';

export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly code?: string;
  readonly signal?: string;
  readonly [key: string]: unknown;
}

/** Lines kept per process (a long test logs a line per call). */
const MAX_LOG_LINES = 20_000;

export class GatewayProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  port = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  /** `performance.now()` when each log line arrived, by index in `logs`. */
  readonly logTimes: number[] = [];
  private readonly conditions = new Conditions('gateway process');

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /listening on http:\/\/[^:]+:(\d+)\//.exec(line);
      if (port) this.port = Number(port[1]);
      if (line.startsWith('{') && this.logs.length < MAX_LOG_LINES) {
        this.logs.push(JSON.parse(line) as LogLine);
        this.logTimes.push(performance.now());
      }
      this.conditions.notify();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (this.stderr.length < 1000) this.stderr.push(line);
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal, at: performance.now() };
      this.conditions.notify();
    });
  }

  /** Starts `src/server/main.ts` with only PATH and `env` (plus HOST=127.0.0.1, PORT=0, LOG_LEVEL=info defaults). */
  static start(env: Record<string, string>): GatewayProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new GatewayProcess(child);
  }

  until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return this.conditions.until(check, timeoutMs, what);
  }

  /** Resolves with `127.0.0.1:<port>` once listening; rejects if the process exits first. */
  async listening(timeoutMs = 30_000): Promise<string> {
    await this.until(() => this.port > 0 || this.exit !== undefined, timeoutMs, 'listening');
    if (this.port === 0) throw new Error(`gateway exited early: ${this.stderr.join('\n')}`);
    return `127.0.0.1:${this.port}`;
  }

  /** When the first log line matching `match` arrived (performance.now()), waiting up to `timeoutMs`. */
  async logged(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<number> {
    await this.until(() => this.logs.some(match), timeoutMs, what);
    return this.logTimes[this.logs.findIndex(match)]!;
  }

  async exited(timeoutMs: number): Promise<NonNullable<GatewayProcess['exit']>> {
    await this.until(() => this.exit !== undefined, timeoutMs, 'exit');
    return this.exit!;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === undefined) this.child.kill(signal);
  }
}
