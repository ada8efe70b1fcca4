/**
 * The parent's side of the server child (server-child.ts): forks it under tsx with --expose-gc,
 * and waits for each of its answers with a deadline, so a child that hangs or dies fails the bench
 * instead of parking it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, MemorySample, ParentMessage, ServerKind, ServerMeasurement } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..', '..');
const CHILD_SCRIPT = join(HERE, 'server-child.ts');
/**
 * Extra node flags for the child only, to look inside the server under load, e.g.
 * `BENCH_LOAD_CHILD_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` (flags NODE_OPTIONS refuses).
 */
const EXTRA_FLAGS = (process.env['BENCH_LOAD_CHILD_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');

type Expected = ChildMessage['type'];
type MessageOf<T extends Expected> = Extract<ChildMessage, { type: T }>;

export class ServerChild {
  private readonly inbox: ChildMessage[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ChildMessage) => {
      // At most a handful of messages ever arrive (ready, result, failed): bounded by the protocol.
      if (this.inbox.length < 16) this.inbox.push(message);
      this.wake?.();
    });
    child.on('exit', (code, signal) => {
      this.exited = `server child exited (code ${code}, signal ${signal})`;
      this.wake?.();
    });
  }

  /** Forks the child for `kind` and waits for it to listen; resolves with its port and idle memory. */
  static async start(kind: ServerKind, modelUrl: string, otlpUrl?: string, timeoutMs = 30_000): Promise<{ child: ServerChild; port: number; idle: MemorySample }> {
    const child = new ServerChild(
      fork(CHILD_SCRIPT, [kind, modelUrl, ...(otlpUrl === undefined ? [] : [otlpUrl])], {
        env: { ...process.env, ...(kind === 'gateway-traced' ? { OTEL_TRACES_SAMPLER: 'always_on' } : {}) },
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx', '--expose-gc', ...EXTRA_FLAGS],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    try {
      const ready = await child.expect('ready', timeoutMs);
      return { child, port: ready.port, idle: ready.idle };
    } catch (err) {
      child.kill();
      throw err;
    }
  }

  /** Starts the measurement window in the child. */
  begin(): void {
    this.send({ type: 'begin' });
  }

  /** Ends the window; resolves with what the child measured. */
  async end(timeoutMs = 15_000): Promise<ServerMeasurement> {
    this.send({ type: 'end' });
    return (await this.expect('result', timeoutMs)).measurement;
  }

  /** Asks the child to close its server and exit; kills it past the deadline. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  private send(message: ParentMessage): void {
    if (this.exited !== undefined) throw new Error(this.exited);
    this.child.send(message);
  }

  private async expect<T extends Expected>(type: T, timeoutMs: number): Promise<MessageOf<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type || m.type === 'failed');
      const found = index >= 0 ? this.inbox.splice(index, 1)[0] : undefined;
      if (found?.type === 'failed') throw new Error(`server child failed: ${found.message}`);
      if (found !== undefined) return found as MessageOf<T>;
      if (this.exited !== undefined) throw new Error(`${this.exited} while waiting for '${type}'`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server child: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
