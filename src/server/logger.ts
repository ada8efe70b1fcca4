/** pino JSON logs; every call-scoped line carries callSid/streamSid through child loggers. */
import { pino, type Logger } from 'pino';
import { traceMixin } from '../telemetry/log-correlation.js';

export type { Logger };

export function createLogger(level: string): Logger {
  // Lines of a traced call also carry its trace_id and span_id (telemetry/log-correlation.ts).
  return pino({ level, base: { service: 'voicewire' }, mixin: traceMixin });
}

/** A logger that drops everything (tests that do not assert on logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
