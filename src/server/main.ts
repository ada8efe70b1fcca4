#!/usr/bin/env node
/**
 * `npm start`: validates the configuration, picks the model backend, serves the gateway.
 * With no environment at all it runs the cascade backend with the embedded offline agent.
 */
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { buildGateway } from './build.js';
import { startupWarnings } from './fleet-config.js';

const result = loadConfig();
if (!result.ok) {
  for (const problem of result.problems) console.error(`voicewire: ${problem}`);
  console.error('voicewire: refusing to start with an invalid configuration');
  process.exit(2);
}
const config = result.config;
const logger = createLogger(config.logLevel);
for (const warning of startupWarnings(config)) {
  logger.warn({ code: warning.code }, warning.message);
  console.error(`voicewire: WARNING ${warning.code}: ${warning.message}`);
}
const gateway = await buildGateway(config, logger);
const address = await gateway.listen();
const shownHost = address.address === '0.0.0.0' || address.address === '::' ? 'localhost' : address.address;
logger.info({ port: address.port, backend: config.backend }, 'voicewire listening');
console.log(`\nvoicewire is listening on http://${shownHost}:${address.port}/  (backend: ${config.backend})`);
console.log(`  open http://${shownHost}:${address.port}/ in a browser and press Talk,`);
console.log(`  or point a Twilio number's voice webhook at ${config.publicUrl ?? 'https://<your-host>'}/twilio/voice\n`);

// SIGTERM drains: /readyz and new calls get 503 at once, live calls go on for up to
// DRAIN_TIMEOUT_MS, then the rest end with 1001; the process exits when the last call is gone.
// A second SIGTERM/SIGINT ends every call at once (each still gets its close frame).
let signals = 0;
function shutdown(signal: string): void {
  signals++;
  if (signals > 1) {
    logger.warn({ signal, code: 'VW_ERR_SHUTDOWN' }, 'second signal: ending every call now');
    void gateway.stopNow();
    return;
  }
  // The gateway stops taking calls before the line is logged: a reader of the log can rely on it.
  const drained = gateway.drain();
  logger.info({ signal, drainTimeoutMs: config.fleet.drainTimeoutMs }, 'shutting down: draining');
  drained.then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
