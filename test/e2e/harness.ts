/**
 * Runs the real gateway on 127.0.0.1 against a fake OpenAI Realtime server, with fake Twilio callers.
 * Only the remote services are fakes; every socket is real.
 */
import { loadConfig, type GatewayConfig } from '../../src/server/config.js';
import { buildGateway, type BuildOverrides } from '../../src/server/build.js';
import type { Gateway } from '../../src/server/gateway.js';
import { silentLogger } from '../../src/server/logger.js';
import { FakeRealtimeServer, type FakeRealtimeOptions } from '../fakes/realtime-server.js';
import { FakeTwilioCaller, type FakeTwilioCallerOptions } from '../fakes/twilio-caller.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly config: GatewayConfig;
  readonly model: FakeRealtimeServer | undefined;
  readonly baseUrl: string;
  readonly wsUrl: string;
  call(options?: FakeTwilioCallerOptions): Promise<FakeTwilioCaller>;
  close(): Promise<void>;
}

export async function startGateway(
  env: Record<string, string> = {},
  fakeOptions: FakeRealtimeOptions | false = {},
  overrides: BuildOverrides = {},
): Promise<RunningGateway> {
  const model = fakeOptions === false ? undefined : await FakeRealtimeServer.start(fakeOptions);
  const result = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...(model ? { OPENAI_API_KEY: 'test-key', OPENAI_REALTIME_URL: model.url() } : {}),
    ...env,
  });
  if (!result.ok) throw new Error(result.problems.join('; '));
  const gateway = await buildGateway(result.config, silentLogger(), overrides);
  const address = await gateway.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const wsUrl = `ws://127.0.0.1:${address.port}/twilio/media`;
  const callers: FakeTwilioCaller[] = [];
  return {
    gateway,
    config: result.config,
    model,
    baseUrl,
    wsUrl,
    async call(options = {}) {
      const caller = await FakeTwilioCaller.connect(wsUrl, options);
      callers.push(caller);
      return caller;
    },
    async close() {
      for (const caller of callers) caller.terminate();
      await gateway.close();
      await model?.close();
    },
  };
}
