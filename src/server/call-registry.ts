/**
 * The calls of a gateway, in two bounded sets: sockets still waiting for their `start`/`hello`
 * (`pending`, capped by MAX_PENDING_STREAMS) and started calls (`live`, capped by MAX_CALLS). A
 * call slot is taken at `start`, so sockets that never start cannot hold the gateway's capacity.
 */
import type { VoicewireError } from '../errors.js';

/** What the registry and the drain need of a call (CallSession has it). */
export interface RegisteredCall {
  /** Resolves once the call has ended and released everything. */
  readonly ended: Promise<void>;
  /** Ends the call from our side: the caller gets the error's close code. */
  closeCall(error: VoicewireError): void;
}

export class CallRegistry<C extends RegisteredCall = RegisteredCall> {
  private readonly live = new Set<C>();
  private readonly waiting = new Set<C>();
  private emptyWaiters: Array<() => void> = [];

  constructor(
    readonly capacity: number,
    readonly pendingCapacity: number = capacity,
  ) {}

  /** Started calls. */
  get size(): number {
    return this.live.size;
  }

  /** Sockets waiting for their start. */
  get pendingSize(): number {
    return this.waiting.size;
  }

  /** Whether a new socket may wait for its start now. */
  get pendingFull(): boolean {
    return this.waiting.size >= this.pendingCapacity;
  }

  /** Registers an upgraded socket waiting for its start; false at the pending cap. Leaves when it ends. */
  addPending(call: C): boolean {
    if (this.pendingFull) return false;
    this.waiting.add(call);
    void call.ended.then(() => this.remove(call));
    return true;
  }

  /** Moves a pending call to the live calls at its start; false when MAX_CALLS are live (it stays pending). */
  admit(call: C): boolean {
    if (this.live.size >= this.capacity) return false;
    if (!this.waiting.delete(call)) void call.ended.then(() => this.remove(call));
    this.live.add(call);
    return true;
  }

  /** Live calls, then pending ones. */
  *[Symbol.iterator](): IterableIterator<C> {
    yield* this.live;
    yield* this.waiting;
  }

  /** Resolves when no call is live or pending (at once if none is). */
  whenEmpty(): Promise<void> {
    if (this.live.size + this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Ends every call, live and pending, with `error`; resolves when all have ended. */
  async closeAll(error: VoicewireError): Promise<void> {
    for (const call of [...this]) call.closeCall(error);
    await this.whenEmpty();
  }

  private remove(call: C): void {
    this.live.delete(call);
    this.waiting.delete(call);
    if (this.live.size + this.waiting.size > 0) return;
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
