/**
 * The conversation the reasoning stage sees, bounded in messages and characters so a long call
 * cannot grow it (the oldest messages go first). Assistant messages carry the response id so a
 * barge-in can truncate one to what the caller actually heard, as OpenAI Realtime's
 * `conversation.item.truncate` does for audio.
 */

export type ChatRole = 'user' | 'assistant';

/** A function call an assistant message made (OpenAI chat `tool_calls[]`). */
export interface ChatToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface ChatMessage {
  readonly role: ChatRole | 'system' | 'tool';
  readonly content: string;
  /** An assistant message's function calls. */
  readonly toolCalls?: readonly ChatToolCall[];
  /** A `tool` message: the call it answers. */
  readonly toolCallId?: string;
}

interface Entry {
  readonly role: ChatRole | 'tool';
  content: string;
  readonly itemId: string | undefined;
  readonly toolCalls?: readonly ChatToolCall[];
  readonly toolCallId?: string;
}

export interface HistoryOptions {
  /** Messages kept (user + assistant). Default 20. */
  readonly maxMessages?: number;
  /** Characters kept over all messages. Default 8000. */
  readonly maxChars?: number;
}

export class ConversationHistory {
  readonly maxMessages: number;
  readonly maxChars: number;
  private readonly entries: Entry[] = [];
  private chars = 0;

  constructor(options: HistoryOptions = {}) {
    this.maxMessages = Math.max(1, Math.floor(options.maxMessages ?? 20));
    this.maxChars = Math.max(1, Math.floor(options.maxChars ?? 8000));
  }

  get length(): number {
    return this.entries.length;
  }

  get totalChars(): number {
    return this.chars;
  }

  /** Appends a message (empty text is not kept); a message longer than maxChars keeps its end. */
  add(role: ChatRole, text: string, itemId?: string): void {
    let content = text.trim();
    if (content.length === 0) return;
    // The end of an over-long message is what the next answer follows on from.
    if (content.length > this.maxChars) content = content.slice(content.length - this.maxChars);
    this.entries.push({ role, content, itemId });
    this.chars += content.length;
    this.enforce();
  }

  /** An assistant turn that called functions (its spoken text may be empty). */
  addToolCalls(text: string, calls: readonly ChatToolCall[], itemId?: string): void {
    const content = text.trim().slice(-this.maxChars);
    this.entries.push({ role: 'assistant', content, itemId, toolCalls: calls.map((c) => ({ ...c })) });
    this.chars += content.length + calls.reduce((n, c) => n + c.arguments.length, 0);
    this.enforce();
  }

  /** A function's output, answering call `toolCallId` (kept only while its call is held). */
  addToolResult(toolCallId: string, output: string): void {
    if (!this.entries.some((e) => e.toolCalls?.some((c) => c.id === toolCallId))) return;
    const content = output.slice(0, this.maxChars);
    this.entries.push({ role: 'tool', content, itemId: undefined, toolCallId });
    this.chars += content.length;
    this.enforce();
  }

  /**
   * The caller heard only `heardText` of assistant item `itemId`: replace its text (or remove the
   * message when nothing was heard). Returns false when the item is no longer in the history.
   */
  truncate(itemId: string, heardText: string): boolean {
    const index = this.entries.findIndex((e) => e.role === 'assistant' && e.itemId === itemId);
    const entry = this.entries[index];
    if (!entry) return false;
    const heard = heardText.trim();
    if (heard.length >= entry.content.length) return true;
    this.chars -= entry.content.length;
    // A message that called functions stays (empty) when nothing was heard: their outputs answer it.
    if (heard.length === 0 && entry.toolCalls === undefined) {
      this.entries.splice(index, 1);
      return true;
    }
    entry.content = heard;
    this.chars += heard.length;
    return true;
  }

  /** The text of assistant item `itemId`, if still held. */
  textOf(itemId: string): string | undefined {
    return this.entries.find((e) => e.role === 'assistant' && e.itemId === itemId)?.content;
  }

  /** A copy of the messages, oldest first. */
  messages(): ChatMessage[] {
    return this.entries.map((e) => ({
      role: e.role,
      content: e.content,
      ...(e.toolCalls ? { toolCalls: e.toolCalls } : {}),
      ...(e.toolCallId === undefined ? {} : { toolCallId: e.toolCallId }),
    }));
  }

  private enforce(): void {
    while (this.entries.length > this.maxMessages || this.chars > this.maxChars) {
      if (!this.dropOldest()) break;
      // A tool answer without the call it answers is refused by chat APIs: it goes with its call.
      while (this.entries[0]?.role === 'tool') this.dropOldest();
    }
  }

  private dropOldest(): boolean {
    const dropped = this.entries.shift();
    if (!dropped) return false;
    this.chars -= dropped.content.length + (dropped.toolCalls?.reduce((n, c) => n + c.arguments.length, 0) ?? 0);
    return true;
  }
}
