/**
 * Gateway side of the netimpair end-to-end test, run in the server namespace through
 * `netimpair exec server -- node --import tsx test/e2e/netimpair/gateway-side.ts` (cwd = repo root).
 *
 * Starts a fake OpenAI Realtime server (on this namespace's loopback, so the model link is not
 * impaired: only the caller's is) and the real gateway on 0.0.0.0:<ephemeral>, then reports on
 * stdout, one JSON object per line:
 *
 *   {"type":"listening","port":N}
 *   {"type":"sample","t":ms,"calls":[snapshot…],"max":{…}}   every 100 ms
 *   {"type":"truncate","audioEndMs":N,"ok":bool,"sources":{…},"uncertaintyMs":N}  per truncate the model got
 *   {"type":"barge-in-timing","loudAt":…,"vadAt":…,"speechStartedAt":…,"clearWrittenAt":…}  per barge-in
 *     (wall-clock ms, barge-in-timing.ts; vadAt: the fake model's VAD fired)
 *   {"type":"final","max":{…},"samples":N,"model":{…}}        once, on stdin close or SIGTERM
 *
 * Arguments: a JSON object of gateway environment overrides, and optionally one of fake-model
 * options (`answerMs`, `speedFactor`; defaults 20 000 and 5).
 *
 * The per-call snapshots are read every 20 ms so that short peaks count in `max`, and printed
 * every 100 ms. Beside them it reads the kernel's Send-Q of the caller sockets with `ss` (bytes
 * written by ws but not yet acknowledged: where audio waits once ws's own bufferedAmount is 0).
 * It exits by itself after a deadline, in case the parent is gone.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../../src/server/config.js';
import { buildGateway, modelFactory } from '../../../src/server/build.js';
import { silentLogger } from '../../../src/server/logger.js';
import type { SessionSample } from '../../../src/session/observer.js';
import { FakeRealtimeServer } from '../../fakes/realtime-server.js';
import { timedModelFactory } from './barge-in-timing.js';
import { emptyMax, foldMax, type FlowMax } from './report.js';

const READ_EVERY_MS = 20;
const PRINT_EVERY_MS = 100;
/** How often the kernel's send queue of the caller sockets is read (one `ss` run at a time). */
const SS_EVERY_MS = 250;
/** Longest this process lives unless the parent says (`selfDeadlineMs`): the e2e test stays well under it. */
const SELF_DEADLINE_MS = 180_000;

/** Largest Send-Q (bytes) among established TCP sockets on local `port`, from `ss -Htn`. */
function kernelSendQ(port: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { timeout: 1_000 }, (err, stdout) => {
      if (err !== null) return resolve(0);
      // Columns without a State column: Recv-Q Send-Q Local:Port Peer:Port
      const queues = stdout.split('\n').map((line) => Number(line.trim().split(/\s+/)[1]));
      resolve(Math.max(0, ...queues.filter((q) => Number.isFinite(q))));
    });
  });
}

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function main(): Promise<void> {
  const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
  const fakeOptions = JSON.parse(process.argv[3] ?? '{}') as { answerMs?: number; speedFactor?: number; selfDeadlineMs?: number };
  const fake = await FakeRealtimeServer.start({
    answerMs: fakeOptions.answerMs ?? 20_000,
    speedFactor: fakeOptions.speedFactor ?? 5,
    detectionDelayMs: 100,
    // The gateway, not the fake, decides to cancel at barge-in (as in the loopback barge-in test).
    interruptResponse: false,
  });
  const loaded = loadConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    LOG_LEVEL: 'silent',
    OPENAI_API_KEY: 'test-key',
    OPENAI_REALTIME_URL: fake.url(),
    ...env,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const createModel = timedModelFactory(modelFactory(loaded.config, silentLogger()), (stamps) => {
    // The fake logs performance.now() of this process: on the wall clock, like the stamps.
    // A local barge-in comes before the fake's VAD fires: its last record is an earlier turn's.
    const vad = stamps.speechStartedAt === undefined ? undefined : fake.speechStartedAt.at(-1);
    emit({ type: 'barge-in-timing', ...stamps, vadAt: vad === undefined ? null : performance.timeOrigin + vad.at });
  });
  const gateway = await buildGateway(loaded.config, silentLogger(), { createModel });
  const address = await gateway.listen(0, '0.0.0.0');
  const t0 = performance.now();
  let max: FlowMax = emptyMax();
  let samples = 0;
  let callSamples = 0;
  let reads = 0;
  let latest: SessionSample[] = [];
  let kernelSendQMax = 0;
  let ssBusy = false;
  const ssTimer = setInterval(() => {
    if (ssBusy) return;
    ssBusy = true;
    void kernelSendQ(address.port).then((q) => {
      kernelSendQMax = Math.max(kernelSendQMax, q);
      ssBusy = false;
    });
  }, SS_EVERY_MS);

  // Each truncate the fake model received, with the gateway's own account of it (the metrics'
  // running totals: truncations by how they were settled, and the interpolated part's sum).
  let truncatesSeen = 0;
  const reportTruncates = async (): Promise<void> => {
    while (truncatesSeen < fake.truncates.length) {
      const truncate = fake.truncates[truncatesSeen++]!;
      const sources: Record<string, number> = {};
      for (const value of (await gateway.context.metrics.truncations.get()).values) sources[String(value.labels.source)] = value.value;
      const uncertainty = (await gateway.context.metrics.truncateUncertaintyMs.get()).values.find((v) => v.metricName?.endsWith('_sum'));
      emit({ type: 'truncate', t: Math.round(performance.now() - t0), audioEndMs: truncate.audioEndMs, ok: truncate.ok, sources, uncertaintySumMs: uncertainty?.value ?? 0 });
    }
  };
  let truncateBusy = false;

  const reader = setInterval(() => {
    if (!truncateBusy && truncatesSeen < fake.truncates.length) {
      truncateBusy = true;
      void reportTruncates().finally(() => (truncateBusy = false));
    }
    latest = [...gateway.context.calls].map((call) => call.snapshot());
    for (const sample of latest) max = foldMax(max, sample);
    reads++;
    if (reads % (PRINT_EVERY_MS / READ_EVERY_MS) !== 0) return;
    samples++;
    if (latest.length > 0) callSamples++;
    emit({ type: 'sample', t: Math.round(performance.now() - t0), calls: latest, max, kernelSendQMax });
  }, READ_EVERY_MS);

  let closing = false;
  const shutdown = async (why: string): Promise<void> => {
    if (closing) return;
    closing = true;
    clearInterval(reader);
    clearInterval(ssTimer);
    const model = {
      responses: fake.log.responses.map((r) => ({ status: r.status, reason: r.reason, audioMs: r.audioMs })),
      cancels: fake.cancels.map((c) => ({ active: c.active })),
      truncates: fake.truncates.map((tr) => ({ audioEndMs: tr.audioEndMs, ok: tr.ok })),
      speechStarts: fake.speechStartedAt.length,
    };
    emit({ type: 'final', why, max, kernelSendQMax, samples, callSamples, model });
    await gateway.close();
    await fake.close();
    process.exit(0);
  };
  const stop = (why: string): void => {
    shutdown(why).catch((err: unknown) => {
      process.stderr.write(`gateway-side: shutdown failed: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.resume();
  setTimeout(() => stop('self deadline'), fakeOptions.selfDeadlineMs ?? SELF_DEADLINE_MS).unref();

  emit({ type: 'listening', port: address.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway-side: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
