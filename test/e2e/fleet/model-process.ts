/**
 * The fake OpenAI Realtime server in its own process, so that the fleet test's callers and the
 * model's pacing do not share one event loop. Prints `model <url>` once listening; SIGTERM closes it.
 *   node --import tsx test/e2e/fleet/model-process.ts '{"answerMs":8000,"speedFactor":4}'
 */
import { FakeRealtimeServer, type FakeRealtimeOptions } from '../../fakes/realtime-server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as FakeRealtimeOptions;
const server = await FakeRealtimeServer.start(options);
console.log(`model ${server.url()}`);
process.once('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
