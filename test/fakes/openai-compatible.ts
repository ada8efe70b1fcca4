/**
 * Fake OpenAI-compatible HTTP servers for the cascade backend, on 127.0.0.1:0, following the real
 * wire formats:
 * - POST /v1/audio/transcriptions: multipart/form-data (file, model, response_format) → {"text"}
 * - POST /v1/chat/completions: `stream: true` → SSE `data: {chunk}` … `data: [DONE]`
 * - POST /v1/audio/speech: {model, voice, input, response_format: pcm|wav} → PCM16 24 kHz stream
 *
 * Each route's behaviour is a mutable object (pace, failures, delays). Every request is recorded
 * with its parsed body and whether the client aborted it (the connection closed before the
 * response ended), and `waitFor()` waits on those records without sleeping.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Failure = 'status500' | 'hang' | 'malformed' | 'truncated' | 'error-event';

export interface ChatBehaviour {
  /** The deltas to stream; default: `text` split into words. */
  tokens?: string[];
  text?: string;
  /** Delay between deltas; 0 writes every delta in one write ("1000 tokens at once"). */
  paceMs?: number;
  /** With paceMs 0: one write per delta, waiting for 'drain' whenever the socket is full. */
  flowControlled?: boolean;
  /** Delay before the headers. */
  firstByteDelayMs?: number;
  failure?: Failure;
  /** With 'hang': deltas sent before the stream stalls. */
  tokensBeforeFailure?: number;
  /**
   * Function calls streamed after the text, as OpenAI does: the first piece of each carries
   * `index`, `id`, `type` and `function.name` (arguments ''), later pieces `index` and
   * `function.arguments` fragments; the stream ends with finish_reason `tool_calls`.
   */
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
}

export interface SttBehaviour {
  text: string;
  delayMs?: number;
  failure?: 'status500' | 'hang' | 'malformed';
}

export interface TtsBehaviour {
  /** Delay before the first byte of each sentence (a slow TTS: e.g. 2000). */
  delayMs?: number;
  /** Audio length per character of input. Default 20 ms. */
  msPerChar?: number;
  /** Bytes per write (odd values split samples across writes). Default 4801. */
  chunkBytes?: number;
  failure?: 'status500' | 'hang';
  /** Apply `failure` only to inputs containing this text. */
  failOnInput?: string;
}

export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly data: Buffer;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly json: unknown;
  readonly parts: readonly MultipartPart[];
  /** The client closed the connection before the response ended. */
  aborted: boolean;
  /** The response was completely written. */
  ended: boolean;
  bytesWritten: number;
  /** A flow-controlled write is waiting for 'drain' (the client is not reading). */
  blockedOnDrain: boolean;
  /** Deltas handed to the socket so far (flow-controlled mode). */
  deltasWritten: number;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class FakeOpenAiServer {
  chat: ChatBehaviour = { text: 'Hello there. How can I help you today?' };
  /** Behaviours for the next chat requests, one each, before `chat` applies again. */
  chatScript: ChatBehaviour[] = [];
  stt: SttBehaviour = { text: 'hello' };
  tts: TtsBehaviour = {};
  readonly requests: RecordedRequest[] = [];
  private readonly changes = new EventEmitter();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeOpenAiServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeOpenAiServer(server, `http://127.0.0.1:${port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => fake.handle(req, res));
    return fake;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `predicate` holds (checked at every request change); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake server: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.changes.off('change', check);
      };
      this.changes.on('change', check);
    });
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private changed(): void {
    this.changes.emit('change');
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers['content-type'] ?? '';
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        headers: req.headers,
        body,
        json: contentType.includes('application/json') ? safeJson(body.toString('utf8')) : undefined,
        parts: contentType.includes('multipart/form-data') ? parseMultipart(body, contentType) : [],
        aborted: false,
        ended: false,
        bytesWritten: 0,
        blockedOnDrain: false,
        deltasWritten: 0,
      };
      this.requests.push(record);
      res.on('close', () => {
        if (!res.writableFinished) record.aborted = true;
        this.changed();
      });
      res.on('finish', () => {
        record.ended = true;
        this.changed();
      });
      this.changed();
      this.route(record, res);
    });
  }

  private route(record: RecordedRequest, res: ServerResponse): void {
    if (record.method !== 'POST') return void res.writeHead(405).end();
    switch (record.path) {
      case '/v1/chat/completions':
        return this.chatCompletions(record, res);
      case '/v1/audio/transcriptions':
        return this.transcriptions(record, res);
      case '/v1/audio/speech':
        return this.speech(record, res);
      default:
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
    }
  }

  private write(record: RecordedRequest, res: ServerResponse, data: string | Buffer): void {
    if (res.destroyed || res.writableEnded) return;
    record.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    res.write(data);
  }

  private chatCompletions(record: RecordedRequest, res: ServerResponse): void {
    const b = this.chatScript.shift() ?? this.chat;
    const tokens = b.tokens ?? (b.text ?? '').match(/\S+\s*/g) ?? [];
    if (b.failure === 'status500') {
      return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
    }
    if (b.failure === 'hang' && (b.tokensBeforeFailure ?? 0) === 0) return; // never answers
    const start = (): void => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (content: string | null, finish: string | null): string =>
        `data: ${JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion.chunk',
          created: 0,
          model: 'fake',
          choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
        })}\n\n`;
      const limit = b.failure === 'hang' || b.failure === 'malformed' || b.failure === 'truncated' || b.failure === 'error-event'
        ? Math.min(tokens.length, b.tokensBeforeFailure ?? 0)
        : tokens.length;
      const finishStream = (): void => {
        switch (b.failure) {
          case 'hang':
            return; // stalls forever, connection open
          case 'malformed':
            this.write(record, res, 'data: {"choices": [ {"delta": \n\n');
            return void res.end();
          case 'truncated':
            return void res.end(); // no finish_reason, no [DONE]
          case 'error-event':
            this.write(record, res, 'data: {"error":{"message":"overloaded"}}\n\n');
            return void res.end();
          default: {
            const calls = b.toolCalls ?? [];
            const pieces = calls.flatMap((call, index) => {
              const third = Math.max(1, Math.ceil(call.arguments.length / 3));
              const args: string[] = [];
              for (let i = 0; i < call.arguments.length; i += third) args.push(call.arguments.slice(i, i + third));
              return [
                { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
                ...args.map((fragment) => ({ index, function: { arguments: fragment } })),
              ];
            });
            for (const piece of pieces) {
              this.write(record, res, `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 0, model: 'fake', choices: [{ index: 0, delta: { tool_calls: [piece] }, finish_reason: null }] })}\n\n`);
            }
            this.write(record, res, chunk(null, calls.length > 0 ? 'tool_calls' : 'stop') + 'data: [DONE]\n\n');
            res.end();
          }
        }
      };
      this.write(record, res, `: keep-alive\n\n` + chunk('', null).replace('"content":""', '"role":"assistant","content":""'));
      if (!b.paceMs && b.flowControlled) {
        let i = 0;
        const pump = (): void => {
          record.blockedOnDrain = false;
          this.changed();
          while (i < limit && !res.destroyed) {
            const data = chunk(tokens[i++] ?? '', null);
            record.bytesWritten += data.length;
            record.deltasWritten += 1;
            if (!res.write(data)) {
              record.blockedOnDrain = true;
              this.changed();
              res.once('drain', pump);
              return;
            }
          }
          finishStream();
        };
        return pump();
      }
      if (!b.paceMs) {
        this.write(record, res, tokens.slice(0, limit).map((t) => chunk(t, null)).join(''));
        return finishStream();
      }
      let i = 0;
      const next = (): void => {
        if (res.destroyed) return;
        if (i >= limit) return finishStream();
        this.write(record, res, chunk(tokens[i++] ?? '', null));
        this.later(b.paceMs ?? 0, next);
      };
      next();
    };
    if (b.firstByteDelayMs) this.later(b.firstByteDelayMs, start);
    else start();
  }

  private transcriptions(record: RecordedRequest, res: ServerResponse): void {
    const b = this.stt;
    const answer = (): void => {
      if (b.failure === 'hang') return;
      if (b.failure === 'status500') return void res.writeHead(500).end('internal error');
      if (b.failure === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"txt":');
      const file = record.parts.find((p) => p.name === 'file');
      if (!file) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"no file"}}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: b.text }));
    };
    if (b.delayMs) this.later(b.delayMs, answer);
    else answer();
  }

  private speech(record: RecordedRequest, res: ServerResponse): void {
    const b = this.tts;
    const body = record.json as { input?: string; response_format?: string } | undefined;
    const input = body?.input ?? '';
    const failure = b.failOnInput === undefined || input.includes(b.failOnInput) ? b.failure : undefined;
    const answer = (): void => {
      if (failure === 'hang') return;
      if (failure === 'status500') return void res.writeHead(500).end('{"error":{"message":"tts down"}}');
      const ms = input.length * (b.msPerChar ?? 20);
      const pcm = sinePcm24k(ms);
      const payload = body?.response_format === 'wav' ? Buffer.concat([wavHeader24k(0xffffffff), pcm]) : pcm;
      res.writeHead(200, { 'content-type': body?.response_format === 'wav' ? 'audio/wav' : 'audio/pcm' });
      const step = b.chunkBytes ?? 4801;
      for (let at = 0; at < payload.length; at += step) this.write(record, res, payload.subarray(at, at + step));
      res.end();
    };
    if (b.delayMs) this.later(b.delayMs, answer);
    else answer();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A minimal multipart/form-data parser (RFC 7578), enough for what fetch's FormData sends. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const raw = body.subarray(start + 2, next - 2); // strip the CRLF after the delimiter and before the next
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, split).toString('utf8');
    const data = raw.subarray(split + 4);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '',
      filename: /filename="([^"]*)"/i.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]*)/i.exec(head)?.[1]?.trim(),
      data: Buffer.from(data),
    });
    at = next;
  }
  return parts;
}

/** `ms` of a 220 Hz sine, PCM16 LE mono 24 kHz. */
export function sinePcm24k(ms: number): Buffer {
  const samples = Math.round((ms * 24000) / 1000);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 24000)), i * 2);
  return out;
}

/** A 44-byte WAV header for PCM16 mono 24 kHz with the given data size (0xFFFFFFFF: unknown). */
export function wavHeader24k(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(dataBytes === 0xffffffff ? 0xffffffff : 36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(24000, 24);
  h.writeUInt32LE(48000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
