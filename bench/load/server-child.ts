/**
 * Child process of the load bench: runs one server under test (the gateway or the naive forwarder)
 * on 127.0.0.1:0 against the model URL it is given, and measures itself between the parent's
 * `begin` and `end`: CPU (process.cpuUsage), memory (RSS and heap, idle and with calls) and
 * event-loop lag (perf_hooks.monitorEventLoopDelay). Nothing else runs in this process.
 *
 *   node --import tsx --expose-gc bench/load/server-child.ts <gateway|naive|floor-recv|…> <model ws url>
 *
 * Talks to the parent over the IPC channel (protocol.ts); exits when told, or when the parent goes.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_API_KEY, SERVER_KINDS, isServerKind, type ChildMessage, type MemorySample, type ParentMessage, type ServerKind } from './protocol.js';

/** Sampling interval of the lag monitor, ms: fine enough for a p99, cheap enough not to skew CPU. */
const LAG_RESOLUTION_MS = 2;
/** How often RSS is sampled during the window for its peak. */
const RSS_SAMPLE_MS = 250;
/** A GC pause this long or longer alone breaks a 20 ms lag goal. */
const LONG_GC_MS = 20;

interface ServerUnderTest {
  readonly port: number;
  liveCalls(): number;
  close(): Promise<void>;
}

async function startServer(kind: ServerKind, modelUrl: string, otlpUrl: string | undefined): Promise<ServerUnderTest> {
  if (kind === 'naive') {
    const { startNaiveForwarder } = await import('../naive-forwarder.js');
    const naive = await startNaiveForwarder({ realtimeUrl: modelUrl, apiKey: BENCH_API_KEY });
    return { port: naive.port, liveCalls: () => naive.calls, close: () => naive.close() };
  }
  if (kind === 'floor-recv' || kind === 'floor-cadence') {
    const { startFloorForwarder } = await import('../floor-forwarder.js');
    const floor = await startFloorForwarder({ realtimeUrl: modelUrl, apiKey: BENCH_API_KEY }, kind === 'floor-recv' ? 'recv' : 'cadence');
    return { port: floor.port, liveCalls: () => floor.calls, close: () => floor.close() };
  }
  const { loadConfig } = await import('../../src/server/config.js');
  const { buildGateway } = await import('../../src/server/build.js');
  const { silentLogger } = await import('../../src/server/logger.js');
  const config = loadConfig({
    HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', OPENAI_API_KEY: BENCH_API_KEY, OPENAI_REALTIME_URL: modelUrl,
    // Every fake caller comes from 127.0.0.1: the per-address upgrade limit would refuse the 41st.
    UPGRADE_RATE_PER_SEC: '0',
    // Traced: every span exported (the parent sets OTEL_TRACES_SAMPLER=always_on, read by the SDK).
    ...(kind === 'gateway-traced' && otlpUrl !== undefined ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl, OTEL_METRIC_EXPORT_INTERVAL: '5000' } : {}),
    // Settings under test, e.g. BENCH_LOAD_GATEWAY_ENV='{"MODEL_INPUT_BATCH_MS":"0"}' (validated by loadConfig).
    ...gatewayEnv(),
  });
  if (!config.ok) throw new Error(config.problems.join('; '));
  const gateway = await buildGateway(config.config, silentLogger());
  const address = await gateway.listen(0, '127.0.0.1');
  return { port: address.port, liveCalls: () => gateway.context.calls.size, close: () => gateway.close() };
}

/** Extra gateway settings from BENCH_LOAD_GATEWAY_ENV (a JSON object of strings). */
function gatewayEnv(): Record<string, string> {
  const raw = process.env['BENCH_LOAD_GATEWAY_ENV'];
  if (raw === undefined || raw === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error('BENCH_LOAD_GATEWAY_ENV must be a JSON object of strings');
  }
  return parsed as Record<string, string>;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function memory(): MemorySample {
  const { rss, heapUsed, heapTotal, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, arrayBuffers };
}

/** Memory after full collections, so an idle/with-calls difference is not a GC's timing. */
async function settledMemory(): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('load bench child needs --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return memory();
}

const nsToMs = (ns: number): number => ns / 1e6;
/** The histogram records whole timer intervals; the lag is what exceeds the resolution. */
const lagOf = (ns: number): number => Math.max(0, nsToMs(ns) - LAG_RESOLUTION_MS);

/** The measuring state: idle → measuring (after `begin`) → measured (after `end`). */
type Phase =
  | { readonly name: 'idle' }
  | { readonly name: 'measuring'; readonly cpu: NodeJS.CpuUsage; readonly t0: number; readonly rssTimer: NodeJS.Timeout; readonly secondTimer: NodeJS.Timeout }
  | { readonly name: 'measured' };

async function main(): Promise<void> {
  const [kindArg, modelUrl, otlpUrl] = process.argv.slice(2);
  if (!isServerKind(kindArg) || modelUrl === undefined) throw new Error(`usage: server-child.ts <${SERVER_KINDS.join('|')}> <model url> [otlp url]`);
  if (kindArg === 'gateway-traced' && otlpUrl === undefined) throw new Error('gateway-traced needs the OTLP receiver URL');
  const server = await startServer(kindArg, modelUrl, otlpUrl);
  const idle = await settledMemory();
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  // A second monitor, read and reset every second: where in the window the lag was.
  const lagThisSecond = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  const lagBySecond: { p99Ms: number; maxMs: number }[] = [];
  const gc = { count: 0, totalMs: 0, maxMs: 0, over20Ms: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.duration >= LONG_GC_MS) gc.over20Ms++;
    }
  });
  let phase: Phase = { name: 'idle' };
  let peakRss = 0;

  const begin = (): void => {
    if (phase.name !== 'idle') return;
    peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, RSS_SAMPLE_MS);
    const secondTimer = setInterval(() => {
      lagBySecond.push({ p99Ms: lagOf(lagThisSecond.percentile(99)), maxMs: lagOf(lagThisSecond.max) });
      lagThisSecond.reset();
    }, 1000);
    lag.reset();
    lag.enable();
    lagThisSecond.reset();
    lagThisSecond.enable();
    gcObserver.observe({ entryTypes: ['gc'] });
    phase = { name: 'measuring', cpu: process.cpuUsage(), t0: performance.now(), rssTimer, secondTimer };
  };

  const end = async (): Promise<void> => {
    if (phase.name !== 'measuring') return;
    // CPU and lag first: the forced GCs below must not be charged to the server.
    const cpu = process.cpuUsage(phase.cpu);
    const wallMs = performance.now() - phase.t0;
    lag.disable();
    lagThisSecond.disable();
    gcObserver.disconnect();
    clearInterval(phase.rssTimer);
    clearInterval(phase.secondTimer);
    phase = { name: 'measured' };
    const endSample = memory();
    peakRss = Math.max(peakRss, endSample.rss);
    const liveCalls = server.liveCalls();
    const endAfterGc = await settledMemory();
    send({
      type: 'result',
      measurement: {
        wallMs, cpuMs: (cpu.user + cpu.system) / 1000, userMs: cpu.user / 1000, systemMs: cpu.system / 1000,
        lagP50Ms: lagOf(lag.percentile(50)), lagP99Ms: lagOf(lag.percentile(99)), lagMaxMs: lagOf(lag.max),
        lagBySecond, gc, idle, end: endSample, peakRss, endAfterGc, liveCalls,
      },
    });
  };

  const exit = async (): Promise<void> => {
    if (phase.name === 'measuring') {
      clearInterval(phase.rssTimer);
      clearInterval(phase.secondTimer);
    }
    await server.close();
    process.exit(0);
  };

  process.on('message', (message: ParentMessage) => {
    const handled =
      message.type === 'begin' ? Promise.resolve(begin())
      : message.type === 'end' ? end()
      : message.type === 'sample' ? settledMemory().then((memory) => send({ type: 'sample', memory }))
      : exit();
    handled.catch(fail);
  });
  // An orphaned child must not linger: the parent's channel closing ends it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: server.port, idle });
}

function fail(err: unknown): void {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}

main().catch(fail);
