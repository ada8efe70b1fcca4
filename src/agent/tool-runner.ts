/**
 * Runs one call's application tools: HTTP tools (POST `{callId, toolCallId, name, arguments}`,
 * 200 JSON `{output}`) and in-process tools of the library API. Every run is bounded — at most
 * `maxInFlight` at once per call, a deadline each, answers capped at 64 KiB — and every run ends in
 * an output for the model: a failure becomes an output that says the tool failed, so the model can
 * tell the caller instead of waiting on a turn that never ends.
 */
import type { HttpTool } from './call-setup.js';
import { MAX_ANSWER_BYTES, postJson, type PostFailure } from './http-post.js';
import { httpAttributes, startCallSpan } from '../telemetry/stage-tracing.js';

/** What an in-process tool (library API) receives besides its arguments. */
export interface ToolContext {
  readonly callId: string;
  readonly toolCallId: string;
  /** Aborted at the tool's deadline or when the call ends. */
  readonly signal: AbortSignal;
}

/** A tool implemented in the embedding application (`buildGateway(…, { tools })`). */
export interface FunctionTool {
  readonly name: string;
  readonly description?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Deadline of one run; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Returns the output: a string, or anything JSON-serializable. */
  run(args: unknown, context: ToolContext): unknown;
}

export type AgentTool = HttpTool | FunctionTool;

export interface ToolCallRequest {
  readonly toolCallId: string;
  readonly name: string;
  /** The model's arguments, a JSON string. */
  readonly arguments: string;
}

/** Why a tool produced no output of its own. */
export type ToolFailure = PostFailure | 'unknown-tool' | 'bad-arguments' | 'busy' | 'bad-answer' | 'threw';

export type ToolResult =
  | { readonly ok: true; readonly output: string; readonly durationMs: number }
  | { readonly ok: false; readonly output: string; readonly failure: ToolFailure; readonly detail: string; readonly durationMs: number };

export interface ToolRunnerOptions {
  readonly callId: string;
  readonly tools: readonly AgentTool[];
  /** Tool calls running at once for this call (default 4); more get a `busy` failure output. */
  readonly maxInFlight?: number;
  /** Aborted when the call ends: running tools are abandoned. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

export const DEFAULT_MAX_TOOLS_IN_FLIGHT = 4;
const DEFAULT_FUNCTION_TIMEOUT_MS = 5_000;

/** The output a failed tool gives the model: plain words it can pass on, and the reason. */
export function failureOutput(name: string, failure: ToolFailure): string {
  return JSON.stringify({ error: `The tool ${name} failed (${failure}). Tell the caller it is not available right now.` });
}

function isHttpTool(tool: AgentTool): tool is HttpTool {
  return 'url' in tool;
}

export class ToolRunner {
  private inFlight = 0;
  private readonly byName: ReadonlyMap<string, AgentTool>;
  private readonly now: () => number;

  constructor(private readonly options: ToolRunnerOptions) {
    this.byName = new Map(options.tools.map((tool) => [tool.name, tool]));
    this.now = options.now ?? Date.now;
  }

  /** Tool calls running now. */
  get running(): number {
    return this.inFlight;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Runs a tool call; never rejects. */
  async run(request: ToolCallRequest): Promise<ToolResult> {
    const startedAt = this.now();
    const fail = (failure: ToolFailure, detail: string): ToolResult => ({
      ok: false, output: failureOutput(request.name, failure), failure, detail, durationMs: this.now() - startedAt,
    });
    const tool = this.byName.get(request.name);
    if (tool === undefined) return fail('unknown-tool', `no tool named ${request.name}`);
    let args: unknown;
    try {
      args = request.arguments.trim() === '' ? {} : JSON.parse(request.arguments);
    } catch {
      return fail('bad-arguments', 'arguments are not JSON');
    }
    if (this.inFlight >= (this.options.maxInFlight ?? DEFAULT_MAX_TOOLS_IN_FLIGHT)) return fail('busy', `${this.inFlight} tool calls already running`);
    this.inFlight++;
    // GenAI `execute_tool` span of the call's trace (no-op when the call is not traced); an HTTP
    // tool's request carries its traceparent.
    const span = startCallSpan(this.options.callId, `execute_tool ${request.name}`, {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': request.name,
      'gen_ai.tool.call.id': request.toolCallId,
      'gen_ai.tool.type': isHttpTool(tool) ? 'extension' : 'function',
      ...(isHttpTool(tool) ? httpAttributes(tool.url) : {}),
    });
    let failure: ToolFailure | undefined;
    try {
      const answer = isHttpTool(tool) ? await this.runHttp(tool, request, args, span?.headers) : await this.runFunction(tool, request, args);
      if (!answer.ok) {
        failure = answer.failure;
        return fail(answer.failure, answer.detail);
      }
      return { ok: true, output: answer.output, durationMs: this.now() - startedAt };
    } finally {
      this.inFlight--;
      span?.end(failure);
    }
  }

  private async runHttp(tool: HttpTool, request: ToolCallRequest, args: unknown, headers?: Readonly<Record<string, string>>): Promise<Answer> {
    const outcome = await postJson(
      tool.url,
      { callId: this.options.callId, toolCallId: request.toolCallId, name: request.name, arguments: args },
      { timeoutMs: tool.timeoutMs, signal: this.options.signal, ...(headers ? { headers } : {}) },
    );
    if (!outcome.ok) return outcome;
    const json = outcome.json;
    if (typeof json !== 'object' || json === null || Array.isArray(json) || !('output' in json)) {
      return { ok: false, failure: 'bad-answer', detail: 'answer has no `output`' };
    }
    return toOutput((json).output);
  }

  private async runFunction(tool: FunctionTool, request: ToolCallRequest, args: unknown): Promise<Answer> {
    const timeoutMs = tool.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([deadline, this.options.signal]);
    const context: ToolContext = { callId: this.options.callId, toolCallId: request.toolCallId, signal };
    const aborted = new Promise<Answer>((resolve) => {
      const settle = (): void => resolve(deadline.aborted
        ? { ok: false, failure: 'timeout', detail: `no result within ${timeoutMs} ms` }
        : { ok: false, failure: 'aborted', detail: 'call ended' });
      if (signal.aborted) settle();
      else signal.addEventListener('abort', settle, { once: true });
    });
    const ran = (async (): Promise<Answer> => {
      try {
        return toOutput(await tool.run(args, context));
      } catch (err) {
        return { ok: false, failure: 'threw', detail: err instanceof Error ? err.message : String(err) };
      }
    })();
    return Promise.race([ran, aborted]);
  }
}

type Answer = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly failure: ToolFailure; readonly detail: string };

/** A tool's output as the model gets it: strings as they are, anything else as JSON; capped. */
function toOutput(value: unknown): Answer {
  let output: string | undefined;
  try {
    output = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    output = undefined;
  }
  if (output === undefined) return { ok: false, failure: 'bad-answer', detail: 'output is not serializable' };
  if (Buffer.byteLength(output) > MAX_ANSWER_BYTES) return { ok: false, failure: 'too-large', detail: `output over ${MAX_ANSWER_BYTES} bytes` };
  return { ok: true, output };
}
