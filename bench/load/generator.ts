/**
 * Child process of the load bench: the whole load in one process on its own CPU — the lean fake
 * OpenAI Realtime model (lean-model.ts) and N lean Twilio callers (lean-caller.ts) on one timer —
 * measuring its own CPU and event-loop lag, so a generator that could not keep up shows in the report.
 *
 *   node --import tsx bench/load/generator.ts '{"answerMs":…,"speedFactor":…,"apiKey":…}'
 *
 * Talks to the parent over the IPC channel (protocol.ts); exits when told, or when the parent goes.
 */
import { performance } from 'node:perf_hooks';
import { markCallers, summarizeCallers, type CallerMark } from './callers.js';
import { CallerFleet } from './lean-caller.js';
import { LeanModel } from './lean-model.js';
import type { GeneratorMessage, ToGeneratorMessage } from './protocol.js';
import { SelfMeter } from './self-meter.js';

function send(message: GeneratorMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as { answerMs: number; speedFactor: number; apiKey: string; leadMs?: number };
  const model = await LeanModel.start(options);
  const fleet = new CallerFleet();
  let window: { t0: number; atStart: CallerMark[]; meter: SelfMeter } | undefined;

  const connect = async (url: string, calls: number): Promise<void> => {
    await fleet.connect(url, calls);
    await model.waitForConnections(calls, 60_000);
    send({ type: 'connected' });
  };
  const begin = (askSpreadMs: number, askEveryMs: number | undefined): void => {
    const t0 = performance.now();
    window = { t0, atStart: markCallers(fleet.callers, t0), meter: new SelfMeter() };
    fleet.askSpread(askSpreadMs, askEveryMs);
  };
  const end = (): void => {
    if (window === undefined) throw new Error('generator: end before begin');
    const t1 = performance.now();
    const self = window.meter.stop();
    const callers = summarizeCallers(fleet.callers, window.t0, window.atStart, t1);
    const receivedMs = fleet.callers.reduce((sum, caller) => sum + caller.audioReceivedBytes, 0) / 8;
    const audioHeldMs = Math.max(0, model.audioSentMs - receivedMs);
    send({ type: 'result', result: { callers, cpuPercent: self.cpuPercent, lagP99Ms: self.lagP99Ms, modelSessions: model.connections.size, audioHeldMs } });
  };
  const exit = async (): Promise<void> => {
    fleet.stop();
    await model.close();
    process.exit(0);
  };

  process.on('message', (message: ToGeneratorMessage) => {
    const handled =
      message.type === 'connect' ? connect(message.url, message.calls)
      : message.type === 'begin' ? Promise.resolve(begin(message.askSpreadMs, message.askEveryMs))
      : message.type === 'end' ? Promise.resolve(end())
      : exit();
    handled.catch(fail);
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', modelUrl: model.url() });
}

function fail(err: unknown): void {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}

main().catch(fail);
