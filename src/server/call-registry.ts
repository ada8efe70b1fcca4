/** The live calls of a gateway: bounded by MAX_CALLS, ended together on shutdown. */
import type { CallSession } from '../session/call-session.js';

export class CallRegistry {
  private readonly calls = new Set<CallSession>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.calls.size;
  }

  /** Adds a call; false when the gateway is full. The call leaves the registry when it ends. */
  add(call: CallSession): boolean {
    if (this.calls.size >= this.capacity) return false;
    this.calls.add(call);
    void call.ended.then(() => this.calls.delete(call));
    return true;
  }

  [Symbol.iterator](): IterableIterator<CallSession> {
    return this.calls.values();
  }

  async endAll(reason: string): Promise<void> {
    const ending = [...this.calls].map((call) => {
      call.end(reason);
      return call.ended;
    });
    await Promise.all(ending);
  }
}
