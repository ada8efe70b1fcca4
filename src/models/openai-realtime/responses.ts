/**
 * The life of Realtime responses as the gateway sees them, and the one place that decides whether
 * a `response.cancel` may be sent and whether a delta is still wanted.
 *
 * The API answers a cancel with nothing active by `response_cancel_not_active`, so a cancel goes
 * out only from `active`. Realtime has no sentences: each new (item, content part) carrying audio
 * is a "sentence", numbered from 0 within its response.
 */

/**
 * - `idle`: nothing in progress.
 * - `creating`: the server VAD committed a turn and will create a response (create_response), but
 *   `response.created` has not arrived: a cancel now would be a no-op, so none is sent.
 * - `active`: created and not done: deltas are delivered; `interrupt` sends a cancel.
 * - `cancelling`: a cancel was sent; waiting for `response.done` (no second cancel).
 */
export type ResponseState = 'idle' | 'creating' | 'active' | 'cancelling';

const ALLOWED: Record<ResponseState, readonly ResponseState[]> = {
  idle: ['creating', 'active'],
  creating: ['creating', 'active', 'idle'],
  active: ['active', 'cancelling', 'idle'],
  cancelling: ['active', 'idle'],
};

/** What to do with one audio (or transcript) delta. */
export type DeltaVerdict =
  | { readonly deliver: true; readonly sentenceId: number; readonly newSentence: boolean }
  | { readonly deliver: false; readonly why: 'interrupted' | 'not-active' };

interface OpenSentence {
  readonly itemId: string;
  readonly contentIndex: number;
  readonly sentenceId: number;
  ended: boolean;
  /** The verdict of every later delta of this sentence: one object, not one per delta. */
  readonly continued: DeltaVerdict;
}

/** How many interrupted response ids are remembered (late deltas of older ones are dropped anyway). */
const INTERRUPTED_MEMORY = 8;

export class ResponseTracker {
  private stateValue: ResponseState = 'idle';
  private active: string | undefined;
  private sentence: OpenSentence | undefined;
  private nextSentenceId = 0;
  /** Ring of recently interrupted response ids: bounded whatever the call length. */
  private readonly interrupted: string[] = [];

  get state(): ResponseState {
    return this.stateValue;
  }

  /** The response created and not yet done (also while cancelling), if any. */
  get activeId(): string | undefined {
    return this.active;
  }

  /** Server VAD committed a turn; with create_response a response will follow. */
  onCommitted(autoCreate: boolean): void {
    if (autoCreate && this.stateValue === 'idle') this.move('creating');
  }

  /** `response.created`. Returns the id of a still-active response it replaces, if any. */
  onCreated(responseId: string): string | undefined {
    const replaced = this.active !== undefined && this.active !== responseId ? this.active : undefined;
    this.active = responseId;
    this.sentence = undefined;
    this.nextSentenceId = 0;
    this.move('active');
    return replaced;
  }

  /** `response.done`: the response is over whatever its status. Returns the still-open sentence to end. */
  onDone(responseId: string): number | undefined {
    if (responseId !== this.active) return undefined;
    const open = this.closeSentence();
    this.active = undefined;
    this.sentence = undefined;
    this.move('idle');
    return this.isInterrupted(responseId) ? undefined : open;
  }

  /**
   * The session interrupts. Returns the response id to cancel when one is active (state becomes
   * `cancelling`), undefined otherwise. Either way the active response's later deltas are dropped.
   */
  interrupt(): string | undefined {
    const id = this.active;
    if (id === undefined) return undefined;
    this.remember(id);
    if (this.stateValue !== 'active') return undefined;
    this.move('cancelling');
    return id;
  }

  /** Decides about one delta of `responseId` for (itemId, contentIndex). */
  delta(responseId: string, itemId: string, contentIndex: number): DeltaVerdict {
    if (this.isInterrupted(responseId)) return { deliver: false, why: 'interrupted' };
    if (responseId !== this.active) return { deliver: false, why: 'not-active' };
    const open = this.sentence;
    if (open !== undefined && open.itemId === itemId && open.contentIndex === contentIndex) {
      return open.continued;
    }
    const sentenceId = this.nextSentenceId++;
    this.sentence = { itemId, contentIndex, sentenceId, ended: false, continued: { deliver: true, sentenceId, newSentence: false } };
    return { deliver: true, sentenceId, newSentence: true };
  }

  /**
   * The audio of `itemId` (optionally one content part) ended: returns the sentence id to report,
   * once, or undefined when nothing open matches or the response was interrupted.
   */
  endOfAudio(responseId: string, itemId: string, contentIndex?: number): number | undefined {
    if (responseId !== this.active || this.isInterrupted(responseId)) return undefined;
    const open = this.sentence;
    if (open === undefined || open.itemId !== itemId) return undefined;
    if (contentIndex !== undefined && open.contentIndex !== contentIndex) return undefined;
    return this.closeSentence();
  }

  isInterrupted(responseId: string): boolean {
    return this.interrupted.includes(responseId);
  }

  /** The connection was lost: forget the active response (it died with the server session). */
  reset(): string | undefined {
    const id = this.active;
    this.active = undefined;
    this.sentence = undefined;
    if (this.stateValue !== 'idle') this.move('idle');
    return id;
  }

  private closeSentence(): number | undefined {
    const open = this.sentence;
    if (open === undefined || open.ended) return undefined;
    open.ended = true;
    return open.sentenceId;
  }

  private remember(responseId: string): void {
    if (this.interrupted.includes(responseId)) return;
    this.interrupted.push(responseId);
    if (this.interrupted.length > INTERRUPTED_MEMORY) this.interrupted.shift();
  }

  private move(next: ResponseState): void {
    if (!ALLOWED[this.stateValue].includes(next)) {
      // A programming error in this file, not a wire condition: the wire can't reach this.
      throw new Error(`ResponseTracker: ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }
}
