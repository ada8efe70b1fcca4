/**
 * The parent's side of the bench's child processes (server-child.ts, generator.ts): forks each
 * under tsx, pinned to a CPU with `taskset` (util-linux) so the server under test and the load
 * generator never share a core, and waits for each of its answers with a deadline, so a child that
 * hangs or dies fails the bench instead of parking it.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, GeneratorMessage, GeneratorResult, MemorySample, ParentMessage, ServerKind, ServerMeasurement, ToGeneratorMessage } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..', '..');
/**
 * Extra node flags for the server child only, to look inside the server under load, e.g.
 * `BENCH_LOAD_CHILD_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` (flags NODE_OPTIONS refuses).
 */
const EXTRA_FLAGS = (process.env['BENCH_LOAD_CHILD_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
/** The same for the load generator (`BENCH_LOAD_GENERATOR_FLAGS`), to check that it is not the bottleneck. */
const GENERATOR_FLAGS = (process.env['BENCH_LOAD_GENERATOR_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');

/**
 * `BENCH_LOAD_COMPILED=1`: run the server child (gateway and naive forwarder alike) and the load
 * generator from tsc's output, as `npm start` runs the gateway, instead of under tsx. tsx compiles with esbuild's
 * `keepNames`, which renames every function it creates with Object.defineProperty: each closure
 * made at run time then costs a dictionary of its own properties (≈ 330 bytes; ≈ 25 KiB per call
 * of the gateway's heap) and a defineProperty call. The parent compiles first (tsc, ≈ 15 s) into
 * dist/bench-build (inside the repo, so package.json's "type": "module" applies).
 */
export const COMPILED = process.env['BENCH_LOAD_COMPILED'] === '1';
const COMPILED_DIR = join(REPO_ROOT, 'dist', 'bench-build');
let compiled = false;

/** Compiles the repo into COMPILED_DIR (once per bench run). */
function compileOnce(): void {
  if (compiled) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.json'), '--noEmit', 'false', '--declaration', 'false', '--outDir', COMPILED_DIR], { stdio: 'inherit', cwd: REPO_ROOT });
  compiled = true;
}

/** CPU of the server under test and CPU of the load generator (`BENCH_LOAD_CPUS=0,1`; `none` to not pin). */
const CPUS = (process.env['BENCH_LOAD_CPUS'] ?? '0,1').split(',');
export const SERVER_CPU = CPUS[0] === 'none' ? undefined : CPUS[0];
export const GENERATOR_CPU = CPUS[0] === 'none' ? undefined : (CPUS[1] ?? CPUS[0]);

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const TASKSET = hasTaskset();

type Message = { readonly type: string };

/** A forked child that answers typed messages; `failed` from the child rejects the wait. */
export class ChildLink<Out, In extends Message> {
  private readonly inbox: In[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (message: In) => {
      // A handful of messages ever arrive per phase: bounded by the protocol.
      if (this.inbox.length < 16) this.inbox.push(message);
      this.wake?.();
    });
    child.on('exit', (code, signal) => {
      this.exited = `${name} exited (code ${code}, signal ${signal})`;
      this.wake?.();
    });
  }

  /** Forks `script` under tsx (or from the build), pinned to `cpu` when taskset is there. */
  static fork<Out, In extends Message>(name: string, script: string, args: string[], cpu: string | undefined, flags: string[] = [], env: NodeJS.ProcessEnv = {}, fromBuild = false): ChildLink<Out, In> {
    if (fromBuild) compileOnce();
    const pathOf = (file: string): string => (fromBuild ? join(COMPILED_DIR, 'bench', 'load', file.replace(/\.ts$/, '.js')) : join(HERE, file));
    const nodeFlags = [...(fromBuild ? [] : ['--import', 'tsx']), '--expose-gc', ...flags];
    const pinned = TASKSET && cpu !== undefined;
    const path = pathOf(script);
    const child = fork(path, args, {
      env: { ...process.env, ...env },
      cwd: REPO_ROOT,
      // fork runs `execPath ...execArgv script ...args`: taskset -c CPU node <flags> script.
      ...(pinned ? { execPath: 'taskset', execArgv: ['-c', cpu, process.execPath, ...nodeFlags] } : { execArgv: nodeFlags }),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildLink<Out, In>(child, name);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: Out): void {
    if (this.exited !== undefined) throw new Error(this.exited);
    this.child.send(message as object);
  }

  /** Asks the child to exit with `message`; kills it past the deadline. */
  async stop(message: Out, timeoutMs = 10_000): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send(message);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  async expect<T extends In['type']>(type: T, timeoutMs: number): Promise<Extract<In, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type || m.type === 'failed');
      const found = index >= 0 ? this.inbox.splice(index, 1)[0] : undefined;
      if (found?.type === 'failed') throw new Error(`${this.name} failed: ${(found as unknown as { message: string }).message}`);
      if (found !== undefined) return found as Extract<In, { type: T }>;
      if (this.exited !== undefined) throw new Error(`${this.exited} while waiting for '${type}'`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`);
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

/** The server under test in its child, on SERVER_CPU. */
export class ServerChild {
  private constructor(private readonly link: ChildLink<ParentMessage, ChildMessage>) {}

  /** Forks the child for `kind` and waits for it to listen; resolves with its port and idle memory. */
  static async start(kind: ServerKind, modelUrl: string, otlpUrl?: string, timeoutMs = 30_000): Promise<{ child: ServerChild; port: number; idle: MemorySample }> {
    const link = ChildLink.fork<ParentMessage, ChildMessage>(
      'server child', 'server-child.ts', [kind, modelUrl, ...(otlpUrl === undefined ? [] : [otlpUrl])], SERVER_CPU, EXTRA_FLAGS,
      kind === 'gateway-traced' ? { OTEL_TRACES_SAMPLER: 'always_on' } : {},
      COMPILED,
    );
    try {
      const ready = await link.expect('ready', timeoutMs);
      return { child: new ServerChild(link), port: ready.port, idle: ready.idle };
    } catch (err) {
      link.kill();
      throw err;
    }
  }

  begin(): void {
    this.link.send({ type: 'begin' });
  }

  async end(timeoutMs = 15_000): Promise<ServerMeasurement> {
    this.link.send({ type: 'end' });
    return (await this.link.expect('result', timeoutMs)).measurement;
  }

  /** Heap and RSS after forced GCs, calls live (the soak's sample). */
  async sample(timeoutMs = 15_000): Promise<MemorySample> {
    this.link.send({ type: 'sample' });
    return (await this.link.expect('sample', timeoutMs)).memory;
  }

  stop(): Promise<void> {
    return this.link.stop({ type: 'exit' });
  }

  kill(): void {
    this.link.kill();
  }
}

/** The load generator (lean model + lean callers) in its child, on GENERATOR_CPU. */
export class GeneratorChild {
  private constructor(
    private readonly link: ChildLink<ToGeneratorMessage, GeneratorMessage>,
    readonly modelUrl: string,
  ) {}

  static async start(options: { answerMs: number; speedFactor: number; apiKey: string; leadMs?: number }, timeoutMs = 30_000): Promise<GeneratorChild> {
    // From tsc's output too with BENCH_LOAD_COMPILED=1: no tsx loader thread, no keepNames renaming.
    const link = ChildLink.fork<ToGeneratorMessage, GeneratorMessage>('generator', 'generator.ts', [JSON.stringify(options)], GENERATOR_CPU, GENERATOR_FLAGS, {}, COMPILED);
    try {
      const ready = await link.expect('ready', timeoutMs);
      return new GeneratorChild(link, ready.modelUrl);
    } catch (err) {
      link.kill();
      throw err;
    }
  }

  /** Connects `calls` callers to the server and waits for as many model sessions. */
  async connect(url: string, calls: number, timeoutMs = 120_000): Promise<void> {
    this.link.send({ type: 'connect', url, calls });
    await this.link.expect('connected', timeoutMs);
  }

  /** Opens the window: the callers ask their questions, spread over `askSpreadMs`. */
  begin(askSpreadMs: number, askEveryMs?: number): void {
    this.link.send({ type: 'begin', askSpreadMs, ...(askEveryMs === undefined ? {} : { askEveryMs }) });
  }

  async end(timeoutMs = 15_000): Promise<GeneratorResult> {
    this.link.send({ type: 'end' });
    return (await this.link.expect('result', timeoutMs)).result;
  }

  stop(): Promise<void> {
    return this.link.stop({ type: 'exit' });
  }

  kill(): void {
    this.link.kill();
  }
}
