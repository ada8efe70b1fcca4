/**
 * The call events an application receives (EVENTS_URL as JSON arrays, or the library's `onEvent`),
 * and the per-call emitter that stamps them. Every event carries `type`, `callId`, `seq` (from 1,
 * per call, no gaps at the source: a gap at the receiver means dropped events) and `at` (ISO time).
 */

export interface CallEventFields {
  'call.started': { transport: string; from: string | null; to: string | null; parameters: Record<string, string> };
  /** What configuration applied: `outcome` 'applied' or why the defaults were used. */
  'call.setup': {
    source: 'webhook' | 'function' | 'none';
    outcome: string;
    voice: string | null;
    instructions: boolean;
    greeting: boolean;
    creditWindowMs: number | null;
    localBargeInMs: number | null;
    localBargeInHoldMs: number | null;
    tools: string[];
    metadata: Record<string, unknown> | null;
  };
  'transcript.caller': { itemId: string | null; text: string };
  /**
   * What the agent said. After a barge-in `text` is only the part the caller heard (an estimate
   * from the played position), `unheard` the rest, which the caller never heard.
   */
  'transcript.agent': { responseId: string; text: string; interrupted: boolean; unheard: string | null; heardMs: number | null };
  'tool.called': { toolCallId: string; name: string; arguments: string };
  'tool.result': { toolCallId: string; name: string; ok: boolean; output: string; failure: string | null; durationMs: number };
  barge_in: { heardMs: number; droppedMs: number };
  'call.ended': { reason: string; durationMs: number; turns: number; bargeIns: number; maxBufferedMs: number; underruns: number };
}

export type CallEventType = keyof CallEventFields;

export type CallEventOf<T extends CallEventType> = { type: T; callId: string; seq: number; at: string } & CallEventFields[T];
export type CallEvent = { [T in CallEventType]: CallEventOf<T> }[CallEventType];

/** Where events go. `push` must return at once: it runs on the audio path. */
export interface EventSink {
  push(event: CallEvent): void;
}

/**
 * The library's `onEvent`: called synchronously for each event. Its exceptions and rejections are
 * reported to `onError` and never reach the call.
 */
export class FunctionEventSink implements EventSink {
  constructor(
    private readonly onEvent: (event: CallEvent) => unknown,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(event: CallEvent): void {
    try {
      const result = this.onEvent(event);
      if (result instanceof Promise) result.catch(this.onError);
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Stamps one call's events in order and hands them to the sinks. */
export class CallEventEmitter {
  private seq = 0;

  constructor(
    private readonly callId: string,
    private readonly sinks: readonly EventSink[],
    private readonly now: () => number = Date.now,
  ) {}

  emit<T extends CallEventType>(type: T, fields: CallEventFields[T]): void {
    if (this.sinks.length === 0) return;
    this.seq++;
    const event = { type, callId: this.callId, seq: this.seq, at: new Date(this.now()).toISOString(), ...fields } as unknown as CallEvent;
    for (const sink of this.sinks) sink.push(event);
  }
}
