/**
 * One bounded HTTP POST to an application endpoint (setup webhook, tool, events, Twilio REST):
 * a deadline over the whole exchange (headers and body), a cap on the answer's size, and an
 * outcome instead of an exception, so every caller must decide what a failure means for the call.
 * The answer is read as a stream and abandoned past the cap: a 1 GB body costs 64 KiB.
 */

/** Largest answer read from an application endpoint (the cap). */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface PostOptions {
  /** The serialized body. */
  readonly body: string;
  /** Default `application/json`. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Deadline of the whole exchange, headers and body. */
  readonly timeoutMs: number;
  /** Largest answer accepted (bytes); default MAX_ANSWER_BYTES. */
  readonly maxBytes?: number;
  /** Ends the request early (the call ended). */
  readonly signal?: AbortSignal;
}

/** Why a POST did not produce a usable answer. */
export type PostFailure = 'timeout' | 'network' | 'status' | 'too-large' | 'invalid-json' | 'aborted';

export type PostOutcome =
  | { readonly ok: true; readonly status: number; readonly text: string }
  | { readonly ok: false; readonly failure: PostFailure; readonly status?: number; readonly detail: string };

export type JsonOutcome =
  | { readonly ok: true; readonly status: number; readonly json: unknown }
  | { readonly ok: false; readonly failure: PostFailure; readonly status?: number; readonly detail: string };

/** POSTs `options.body` to `url`; resolves with the answer's text for a 2xx, or a failure. Never rejects. */
export async function post(url: string, options: PostOptions): Promise<PostOutcome> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const maxBytes = options.maxBytes ?? MAX_ANSWER_BYTES;
  const failed = (err: unknown): PostOutcome => {
    if (deadline.aborted) return { ok: false, failure: 'timeout', detail: `no answer within ${options.timeoutMs} ms` };
    if (options.signal?.aborted) return { ok: false, failure: 'aborted', detail: 'request aborted' };
    return { ok: false, failure: 'network', detail: describe(err) };
  };
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': options.contentType ?? 'application/json', ...options.headers },
      body: options.body,
      signal,
      redirect: 'error',
    });
  } catch (err) {
    return failed(err);
  }
  try {
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) {
      await response.body?.cancel();
      return { ok: false, failure: 'too-large', status: response.status, detail: `answer of ${declared} bytes exceeds ${maxBytes}` };
    }
    const text = await readCapped(response, maxBytes);
    if (text === undefined) return { ok: false, failure: 'too-large', status: response.status, detail: `answer exceeds ${maxBytes} bytes` };
    if (response.status < 200 || response.status > 299) {
      return { ok: false, failure: 'status', status: response.status, detail: `HTTP ${response.status}: ${text.slice(0, 200)}` };
    }
    return { ok: true, status: response.status, text };
  } catch (err) {
    return failed(err);
  }
}

/** `post` of a JSON body to an endpoint whose contract is a 200 with a JSON answer. */
export async function postJson(url: string, payload: unknown, options: Omit<PostOptions, 'body' | 'contentType'>): Promise<JsonOutcome> {
  const outcome = await post(url, { ...options, body: JSON.stringify(payload) });
  if (!outcome.ok) return outcome;
  if (outcome.status !== 200) return { ok: false, failure: 'status', status: outcome.status, detail: `HTTP ${outcome.status}` };
  try {
    return { ok: true, status: outcome.status, json: JSON.parse(outcome.text) as unknown };
  } catch (err) {
    return { ok: false, failure: 'invalid-json', status: outcome.status, detail: describe(err) };
  }
}

/** The body as UTF-8, or undefined once it passes `maxBytes` (the rest is never read). */
async function readCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
