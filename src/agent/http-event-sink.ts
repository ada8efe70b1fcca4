/**
 * EVENTS_URL: call events POSTed as JSON arrays, each call's events in order. `push` is O(1) and
 * never waits — it runs on the audio path — so a slow or dead endpoint can only make the queue
 * fill: past `maxQueued` the oldest events are dropped, a POST that fails `maxAttempts` times (with
 * doubling backoff) is dropped, and every drop is counted and reported.
 * The sender works in rounds: up to `batchSize` events from the head of the queue, split by call
 * (each call's order kept), every call's share sent as its own POST with that call's `traceparent`
 * (taken at push time: the call's trace ids are gone once it ends), all of them concurrently. A
 * POST never mixes calls, yet interleaved calls cost one round trip per round, not per call; the
 * next round starts only once every POST of this one is delivered or dropped, so a call's later
 * events never overtake its earlier ones, and at most `batchSize` POSTs are ever in flight.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { CallEvent, EventSink } from './events.js';
import { post } from './http-post.js';
import { callTraces } from '../telemetry/log-correlation.js';

export interface HttpEventSinkOptions {
  readonly url: string;
  /** Events waiting at most (default 10000); the oldest are dropped past it. */
  readonly maxQueued?: number;
  /** Events per round at most (default 100): a round is split into one POST per call, sent concurrently. */
  readonly batchSize?: number;
  /** Deadline of one POST (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Tries per POST (default 4). */
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

/** The round's events grouped by call, in order of each call's first event, each call's order kept. */
function byCall(round: readonly Queued[]): Map<string, Queued[]> {
  const groups = new Map<string, Queued[]>();
  for (const q of round) {
    const group = groups.get(q.event.callId);
    if (group === undefined) groups.set(q.event.callId, [q]);
    else group.push(q);
  }
  return groups;
}

/** The call's traceparent as taken at push (the first event queued while the call was traced). */
function traceparentOfGroup(group: readonly Queued[]): string | undefined {
  return group.find((q) => q.traceparent !== undefined)?.traceparent;
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
    // Started a microtask later, so the events of one turn of the loop share a round.
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
        const round = this.queue.slice(this.head, this.head + (this.options.batchSize ?? 100));
        this.head += round.length;
        this.compact();
        // Every call's POST settles before the next round, so no call's events overtake each other.
        const settled = await Promise.allSettled([...byCall(round)].map(([, group]) => this.deliver(group.map((q) => q.event), traceparentOfGroup(group))));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      }
    } finally {
      this.sending = undefined;
    }
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
