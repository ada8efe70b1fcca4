/**
 * EVENTS_URL: call events POSTed as JSON arrays by one sender, so each call's events arrive in
 * order. `push` is O(1) and never waits — it runs on the audio path — so a slow or dead endpoint
 * can only make the queue fill: past `maxQueued` the oldest events are dropped, a batch that fails
 * `maxAttempts` times (with doubling backoff) is dropped, and every drop is counted and reported.
 * One POST holds the events of one call only (a batch ends where the queue switches calls), so it
 * can carry that call's `traceparent`, taken at push time: the call's trace ids are gone once it ends.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { CallEvent, EventSink } from './events.js';
import { post } from './http-post.js';
import { callTraces } from '../telemetry/log-correlation.js';

export interface HttpEventSinkOptions {
  readonly url: string;
  /** Events waiting at most (default 10000); the oldest are dropped past it. */
  readonly maxQueued?: number;
  /** Events per POST at most (default 100). */
  readonly batchSize?: number;
  /** Deadline of one POST (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Tries per batch (default 4). */
  readonly maxAttempts?: number;
  /** Wait before the first retry, doubled each time (default 250 ms). */
  readonly backoffMs?: number;
  readonly onDelivered?: (count: number) => void;
  /** `reason`: 'queue-full' or 'undeliverable'. */
  readonly onDropped?: (reason: 'queue-full' | 'undeliverable', count: number, detail: string) => void;
}

interface Queued {
  readonly event: CallEvent;
  /** W3C `traceparent` of the event's `voicewire.call` span, when the call is traced. */
  readonly traceparent: string | undefined;
}

/** The W3C traceparent of a traced call (its ids are only kept while it is sampled). */
function traceparentOf(callId: string): string | undefined {
  const ids = callTraces.size === 0 ? undefined : callTraces.get(callId);
  return ids === undefined ? undefined : `00-${ids.trace_id}-${ids.span_id}-01`;
}

export class HttpEventSink implements EventSink {
  private readonly queue: Queued[] = [];
  private head = 0;
  private sending: Promise<void> | undefined;
  private readonly lifetime = new AbortController();
  /** Totals since start (tests and the closing log line). */
  delivered = 0;
  dropped = 0;

  constructor(private readonly options: HttpEventSinkOptions) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  push(event: CallEvent): void {
    if (this.lifetime.signal.aborted) return;
    if (this.queued >= (this.options.maxQueued ?? 10_000)) {
      this.head++;
      this.drop('queue-full', 1, 'events queue full');
    }
    this.queue.push({ event, traceparent: traceparentOf(event.callId) });
    // Started a microtask later, so the events of one turn of the loop share a POST.
    if (this.sending === undefined) this.sending = Promise.resolve().then(() => this.pump());
  }

  /** Waits until everything queued was delivered or dropped, or `timeoutMs` passed. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    while (this.sending !== undefined && !deadline.aborted) {
      await Promise.race([this.sending, wait(timeoutMs, undefined, { signal: deadline }).catch(() => undefined)]);
    }
  }

  /** Stops sending; what is still queued or in flight is dropped (counted). */
  close(): void {
    this.lifetime.abort();
    const left = this.queued;
    this.queue.length = 0;
    this.head = 0;
    if (left > 0) this.drop('undeliverable', left, 'gateway closing');
  }

  private async pump(): Promise<void> {
    try {
      while (this.queued > 0 && !this.lifetime.signal.aborted) {
        const batch = this.nextBatch();
        this.head += batch.length;
        this.compact();
        await this.deliver(batch.map((q) => q.event), batch[0]!.traceparent);
      }
    } finally {
      this.sending = undefined;
    }
  }

  /** From the head: up to `batchSize` events, all of the head's call (the queue's order is kept). */
  private nextBatch(): Queued[] {
    const end = Math.min(this.queue.length, this.head + (this.options.batchSize ?? 100));
    const callId = this.queue[this.head]!.event.callId;
    let i = this.head + 1;
    while (i < end && this.queue[i]!.event.callId === callId) i++;
    return this.queue.slice(this.head, i);
  }

  private async deliver(batch: CallEvent[], traceparent: string | undefined): Promise<void> {
    const attempts = this.options.maxAttempts ?? 4;
    let backoffMs = this.options.backoffMs ?? 250;
    let detail = '';
    let body: string;
    try {
      body = JSON.stringify(batch);
    } catch (err) {
      // Only an application's `metadata` could make this throw; the batch cannot be sent as JSON.
      return this.drop('undeliverable', batch.length, err instanceof Error ? err.message : String(err));
    }
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await post(this.options.url, {
        body, timeoutMs: this.options.timeoutMs ?? 5_000, signal: this.lifetime.signal, ...(traceparent === undefined ? {} : { headers: { traceparent } }),
      });
      if (outcome.ok) {
        this.delivered += batch.length;
        this.options.onDelivered?.(batch.length);
        return;
      }
      if (outcome.failure === 'aborted') return this.drop('undeliverable', batch.length, 'gateway closing');
      detail = `${outcome.failure}: ${outcome.detail}`;
      if (attempt === attempts) break;
      try {
        await wait(backoffMs, undefined, { signal: this.lifetime.signal });
      } catch {
        return this.drop('undeliverable', batch.length, 'gateway closing');
      }
      backoffMs *= 2;
    }
    this.drop('undeliverable', batch.length, detail);
  }

  private drop(reason: 'queue-full' | 'undeliverable', count: number, detail: string): void {
    this.dropped += count;
    this.options.onDropped?.(reason, count, detail);
  }

  /** Drops the consumed prefix now and then so the array does not grow with the call count. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
