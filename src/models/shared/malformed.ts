/**
 * Malformed frames from a model: each is raised as a coded `ModelEvents.error` (counted in
 * voicewire_model_errors_total by the session) and the connection lives on; logging is thinned
 * (the first 10, then every power of two) so a model spewing garbage cannot flood the logs.
 */
import type { VoicewireError } from '../../errors.js';
import type { ModelEvents } from '../model.js';
import type { LoggerLike } from './options.js';

export class MalformedFrames {
  private seen = 0;

  constructor(
    private readonly backend: string,
    private readonly logger: LoggerLike,
    private readonly events: () => ModelEvents | undefined,
  ) {}

  get count(): number {
    return this.seen;
  }

  report(error: VoicewireError, field?: string): void {
    this.seen++;
    const n = this.seen;
    if (n <= 10 || (n & (n - 1)) === 0) {
      this.logger.warn({ backend: this.backend, code: error.code, field, err: error.message, count: n }, 'malformed model message');
    }
    this.events()?.error(error);
  }
}
