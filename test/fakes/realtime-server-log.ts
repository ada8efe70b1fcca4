/**
 * What the fake Realtime server saw and did, with timestamps, for assertions. Every list is
 * bounded (oldest entries go first); totals keep counting. `waitFor` wakes on each new record, so
 * tests wait on events, never on sleeps.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { FakeApiError } from './realtime-server-session.js';

export interface ReceivedEvent {
  /** performance.now() when the message was read. */
  readonly at: number;
  readonly connection: number;
  readonly type: string;
  /** The event as received; `input_audio_buffer.append` has its `audio` replaced by `audioBytes`. */
  readonly event: Record<string, unknown>;
}
export interface CancelRecord {
  readonly at: number;
  readonly connection: number;
  readonly responseId: string | undefined;
  /** Whether a response was active (created, not done, not already cancelling) when it arrived. */
  readonly active: boolean;
}
export interface TruncateRecord {
  readonly at: number;
  readonly connection: number;
  readonly itemId: string;
  readonly contentIndex: number;
  readonly audioEndMs: number;
  /** Whether the fake accepted it (else it answered an error). */
  readonly ok: boolean;
}
export interface SpeechStartRecord {
  readonly at: number;
  readonly connection: number;
  /** `audio_start_ms` sent (input audio clock, including prefix padding). */
  readonly audioStartMs: number;
  readonly source: 'vad' | 'manual';
}
export interface ResponseRecord {
  readonly at: number;
  readonly connection: number;
  readonly id: string;
  readonly itemId: string;
  readonly status: string;
  readonly reason: string | null;
  /** ms of audio actually sent. */
  readonly audioMs: number;
}
export interface ConnectionRecord {
  readonly at: number;
  readonly id: number;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}
export interface CloseRecord {
  readonly at: number;
  readonly connection: number;
  /** Close code as the server saw it (1006: the connection died without a close frame). */
  readonly code: number;
}
export interface ErrorSentRecord extends FakeApiError {
  readonly at: number;
  readonly connection: number;
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

export class FakeLog extends EventEmitter {
  readonly limit: number;
  readonly received: ReceivedEvent[] = [];
  receivedTotal = 0;
  readonly cancels: CancelRecord[] = [];
  readonly truncates: TruncateRecord[] = [];
  readonly speechStartedAt: SpeechStartRecord[] = [];
  readonly responses: ResponseRecord[] = [];
  readonly connections: ConnectionRecord[] = [];
  readonly errorsSent: ErrorSentRecord[] = [];
  readonly closes: CloseRecord[] = [];
  /** `function_call_output` items the client added. */
  readonly functionOutputs: { at: number; connection: number; callId: string; output: string }[] = [];
  /** Function calls the fake made (at their response's end). */
  readonly functionCalls: { at: number; connection: number; responseId: string; callId: string; name: string; arguments: string }[] = [];
  /** `session` objects of every session.update received (valid or not). */
  readonly sessionUpdates: unknown[] = [];
  /** ms of input audio appended (all connections), by the audio clock. */
  appendedMs = 0;
  private readonly appendLimitBytes: number;
  private appended: Uint8Array[] = [];
  private appendedBytesHeld = 0;

  constructor(limit: number, appendLimitBytes: number) {
    super();
    // Several tests may wait at once; each waiter is one listener, removed when it settles.
    this.setMaxListeners(100);
    this.limit = limit;
    this.appendLimitBytes = appendLimitBytes;
  }

  static now(): number {
    return performance.now();
  }

  add<T>(list: T[], item: T): void {
    pushBounded(list, item, this.limit);
    this.emit('change');
  }

  recordReceived(connection: number, type: string, event: Record<string, unknown>): void {
    this.receivedTotal++;
    this.add(this.received, { at: FakeLog.now(), connection, type, event });
  }

  recordAppend(bytes: Uint8Array, ms: number): void {
    this.appendedMs += ms;
    this.appended.push(bytes);
    this.appendedBytesHeld += bytes.length;
    while (this.appendedBytesHeld > this.appendLimitBytes && this.appended.length > 1) {
      this.appendedBytesHeld -= this.appended.shift()!.length;
    }
    this.emit('change');
  }

  /** The most recent appended audio (up to the byte limit), decoded from base64, in order. */
  appendedBytes(): Uint8Array {
    return Buffer.concat(this.appended);
  }

  /** Received events of one type (most recent `limit` only). */
  receivedOfType(type: string): ReceivedEvent[] {
    return this.received.filter((r) => r.type === type);
  }

  /** Resolves when `predicate()` holds (checked now and after every record); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onChange = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake realtime server: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
    });
  }
}
