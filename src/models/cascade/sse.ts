/**
 * A pure, incremental parser for `text/event-stream` (WHATWG HTML §9.2, "Server-sent events").
 * Chunks may split anywhere — inside a field name, between `\r` and `\n`, inside an event — and
 * the events are the same as for the whole text (test/models/cascade/sse.test.ts checks that with
 * random splits). Bytes → text decoding (multi-byte characters split across chunks) is the
 * caller's `TextDecoder({ stream: true })`.
 *
 * Bounded: a line longer than `maxLineChars` or an event longer than `maxEventChars` is a
 * VW_ERR_MALFORMED_STREAM (a server that never sends a newline cannot make us buffer forever).
 */
import { vwError } from '../../errors.js';

export interface SseEvent {
  /** The `event:` field, 'message' when absent. */
  readonly event: string;
  /** The `data:` lines joined with '\n'. */
  readonly data: string;
  readonly id: string | undefined;
}

export interface SseParserOptions {
  /** Longest line accepted (chars). Default 1 MiB. */
  readonly maxLineChars?: number;
  /** Longest event data accepted (chars). Default 1 MiB. */
  readonly maxEventChars?: number;
  /** Name for errors ('llm'). */
  readonly source?: string;
}

const DEFAULT_MAX_CHARS = 1 << 20;

export class SseParser {
  private readonly maxLineChars: number;
  private readonly maxEventChars: number;
  private readonly source: string;
  /** Text of the current, unfinished line. */
  private line = '';
  /** The previous chunk ended with '\r': a '\n' starting the next chunk belongs to it. */
  private pendingCr = false;
  private started = false;
  private data: string[] = [];
  private dataChars = 0;
  private eventType = '';
  private lastId: string | undefined;

  constructor(options: SseParserOptions = {}) {
    this.maxLineChars = options.maxLineChars ?? DEFAULT_MAX_CHARS;
    this.maxEventChars = options.maxEventChars ?? DEFAULT_MAX_CHARS;
    this.source = options.source ?? 'event';
  }

  /** Characters held for an unfinished line and event (bounded by the two maxima). */
  get bufferedChars(): number {
    return this.line.length + this.dataChars;
  }

  /** Feeds decoded text; returns the events it completed, in order. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) start = 1; // a UTF-8 BOM before the first line is ignored
    }
    if (this.pendingCr && start < text.length) {
      this.pendingCr = false;
      if (text.charCodeAt(start) === 0x0a) start += 1;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.appendToLine(text, start, i);
      this.endLine(events);
      if (c === 0x0d) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 0x0a) i += 1;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.appendToLine(text, start, text.length);
    return events;
  }

  /**
   * End of stream. Per the spec an event not terminated by a blank line is discarded; `true`
   * says something was discarded (the caller decides whether that is malformed).
   */
  end(): boolean {
    const discarded = this.line.length > 0 || this.data.length > 0;
    this.line = '';
    this.data = [];
    this.dataChars = 0;
    this.eventType = '';
    this.pendingCr = false;
    return discarded;
  }

  private appendToLine(text: string, from: number, to: number): void {
    if (to <= from) return;
    if (this.line.length + (to - from) > this.maxLineChars) {
      throw vwError('VW_ERR_MALFORMED_STREAM', this.source, `line longer than ${this.maxLineChars} chars`);
    }
    this.line += text.slice(from, to);
  }

  private endLine(events: SseEvent[]): void {
    const line = this.line;
    this.line = '';
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return; // ':' comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    this.applyField(field, value);
  }

  private applyField(field: string, value: string): void {
    switch (field) {
      case 'data':
        this.dataChars += value.length + 1;
        if (this.dataChars > this.maxEventChars) {
          throw vwError('VW_ERR_MALFORMED_STREAM', this.source, `event longer than ${this.maxEventChars} chars`);
        }
        this.data.push(value);
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        return;
      default:
        return; // 'retry' and unknown fields are ignored, as the spec says
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.data.length === 0) {
      this.eventType = '';
      return;
    }
    events.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId });
    this.data = [];
    this.dataChars = 0;
    this.eventType = '';
  }
}
