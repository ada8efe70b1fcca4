/**
 * One HTTP request of a remote cascade stage, with the two ways it can end early made explicit:
 * the turn's AbortSignal (a barge-in; rejects with the signal's reason, and the abort goes all the
 * way into fetch so the server sees the connection close) and the stage's deadline (no headers or
 * no body bytes for `timeoutMs` → VW_ERR_STAGE_FAILED with the stage name). The deadline runs only
 * while we are actually waiting for the server: a reader paused by backpressure is not "slow".
 */
import { abortReason, abortedError } from './abortable.js';
import { stageError, toStageError, type CascadeStage } from './stage-error.js';
import { startStage, type StageSpan } from '../../telemetry/stage-tracing.js';

/** Longest error body quoted in a stage error. */
const ERROR_SNIPPET_BYTES = 512;

/**
 * The endpoint for `path` ('/v1/chat/completions') under a configured URL, which may be a bare
 * origin (`http://host:8000`), a base ending in `/v1`, or the full endpoint already.
 */
export function endpointUrl(base: string, path: string): string {
  const trimmed = base.replace(/\/+$/, '');
  if (trimmed.endsWith(path)) return trimmed;
  if (trimmed.endsWith('/v1') && path.startsWith('/v1/')) return trimmed + path.slice(3);
  return trimmed + path;
}

export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

export class StageRequest {
  readonly stage: CascadeStage;
  readonly timeoutMs: number;
  private readonly controller = new AbortController();
  private readonly outer: AbortSignal | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  /** The request's span when the call is traced (its traceparent goes out with the request). */
  private span: StageSpan | undefined;
  private failed: unknown;
  private readonly onOuterAbort = (): void => this.controller.abort(abortReason(this.outer as AbortSignal));

  constructor(stage: CascadeStage, timeoutMs: number, outer?: AbortSignal) {
    this.stage = stage;
    this.timeoutMs = timeoutMs;
    this.outer = outer;
    if (outer?.aborted) this.controller.abort(abortReason(outer));
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** fetch() under the deadline; a non-2xx answer is a stage error quoting the start of its body. */
  async fetch(url: string, init: RequestInit): Promise<Response> {
    let response: Response;
    this.span ??= startStage(this.stage, this.outer, url);
    const headers = this.span ? { ...(init.headers as Record<string, string> | undefined), ...this.span.headers } : init.headers;
    this.arm();
    try {
      response = await fetch(url, { ...init, headers, signal: this.controller.signal });
    } catch (err) {
      throw this.failure(err);
    } finally {
      this.disarm();
    }
    if (!response.ok) {
      const snippet = await this.snippet(response);
      this.failed = response.status;
      throw stageError(this.stage, `HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`);
    }
    return response;
  }

  /** reader.read() under the deadline. */
  async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadableStreamReadResult<Uint8Array>> {
    this.arm();
    try {
      return await reader.read();
    } catch (err) {
      throw this.failure(err);
    } finally {
      this.disarm();
    }
  }

  /** The whole body, refusing more than `maxBytes` (a stage error). */
  async readAll(response: Response, maxBytes: number): Promise<Uint8Array> {
    const reader = body(response, this.stage).getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await this.read(reader);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw stageError(this.stage, `response larger than ${maxBytes} bytes`);
      parts.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }

  /** Maps a fetch/read failure: barge-in → the turn's abort reason; deadline → stage error. */
  failure(err: unknown): unknown {
    this.failed = err;
    if (this.outer?.aborted) return abortReason(this.outer);
    if (this.timedOut) return stageError(this.stage, `no answer within ${this.timeoutMs} ms`, err);
    return toStageError(this.stage, err);
  }

  /**
   * Ends the request: any body not read to its end is cancelled (the connection closes, the server
   * sees the abort), timers and listeners are released. Idempotent.
   */
  dispose(): void {
    this.span?.end(this.outer?.aborted ? undefined : this.failed);
    this.disarm();
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    if (!this.controller.signal.aborted) this.controller.abort(abortedError(`${this.stage} request finished`));
  }

  private arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(stageError(this.stage, `no answer within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async snippet(response: Response): Promise<string> {
    if (!response.body) return '';
    const reader = response.body.getReader();
    try {
      const { value } = await this.read(reader);
      return value ? new TextDecoder().decode(value.subarray(0, ERROR_SNIPPET_BYTES)).trim() : '';
    } catch {
      return ''; // the status already says what failed; a body we cannot read adds nothing
    } finally {
      reader.cancel().catch(() => undefined);
    }
  }
}

/** The response body, or a stage error for a response without one. */
export function body(response: Response, stage: CascadeStage): ReadableStream<Uint8Array> {
  if (!response.body) throw stageError(stage, 'response has no body');
  return response.body;
}
