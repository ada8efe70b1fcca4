/**
 * The backends of the model conformance suite, each behind one small interface: start its fake,
 * give the gateway's environment, and answer the suite's questions (was the model told to stop,
 * what was it told the caller heard) from the fake's records. Adding a backend = one entry here.
 */
import { FakeRealtimeServer } from '../../fakes/realtime-server.js';
import { FakeGeminiServer } from '../../fakes/gemini-live-server.js';
import { FakeDeepgramServer } from '../../fakes/deepgram-agent-server.js';
import { FakeElevenServer } from '../../fakes/elevenlabs-agent-server.js';

export interface FakeAnswerOptions {
  readonly answerMs: number;
  readonly speedFactor: number;
  readonly detectionDelayMs: number;
  /** Kill the model socket after this many audio chunks (100 ms each) of the first answer. */
  readonly dropAfterChunks?: number;
  /** The caller's first turn gets this function call (in the backend's protocol) instead of an answer. */
  readonly toolCall?: { readonly name: string; readonly args: Record<string, unknown> };
}

/** One function call the fake made, or the result it got back (`text`: the output as the protocol carried it). */
export interface ToolTrace {
  readonly at: number;
  readonly text: string;
}

export interface BackendFake {
  /** Gateway environment selecting this backend and pointing it at the fake. */
  readonly env: Record<string, string>;
  /** Times the model stopped generating because of the caller (cancel, interrupted, …). */
  stopsHonoured(): number;
  /** What the model was told the caller heard (truncate point or a context note), in order. */
  heardReports(): string[];
  /** Model connections opened so far. */
  connections(): number;
  /** Resolves when `check()` holds, re-checked on every record of the fake (no polling). */
  until(check: () => boolean, what: string, timeoutMs: number): Promise<void>;
  /** Function calls the fake model made (`text`: the arguments as JSON). */
  toolCalls(): ToolTrace[];
  /** Results the gateway sent back for them (`text`: the output, JSON for a structured one). */
  toolResults(): ToolTrace[];
  /** Sends malformed frames of this protocol on the live connection; returns how many (each one
   * must become one coded `ModelEvents.error`, counted in voicewire_model_errors_total). */
  sendMalformed(): number;
  close(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  start(options: FakeAnswerOptions): Promise<BackendFake>;
}

const realtime: Backend = {
  name: 'openai-realtime',
  async start(o) {
    const fake = await FakeRealtimeServer.start({
      answerMs: o.answerMs, speedFactor: o.speedFactor, detectionDelayMs: o.detectionDelayMs,
      ...(o.dropAfterChunks === undefined ? {} : { dropAfterDeltas: o.dropAfterChunks }),
      ...(o.toolCall === undefined ? {} : { script: [{ audioMs: 0, functionCall: { name: o.toolCall.name, arguments: JSON.stringify(o.toolCall.args) } }] }),
    });
    return {
      env: { MODEL_BACKEND: 'openai-realtime', OPENAI_API_KEY: 'test-key', OPENAI_REALTIME_URL: fake.url() },
      stopsHonoured: () => fake.log.responses.filter((r) => r.status === 'cancelled').length,
      heardReports: () => fake.truncates.filter((t) => t.ok).map((t) => `truncate ${t.itemId} at ${t.audioEndMs} ms`),
      connections: () => fake.log.connections.length,
      until: (check, what, timeoutMs) => fake.waitFor(check, what, timeoutMs),
      toolCalls: () => fake.log.functionCalls.map((c) => ({ at: c.at, text: c.arguments })),
      toolResults: () => fake.log.functionOutputs.map((r) => ({ at: r.at, text: r.output })),
      sendMalformed: () => {
        // An unknown type is not malformed for Realtime (the API adds events; counted apart).
        fake.sendRaw('{not json');
        fake.sendRaw(JSON.stringify({ type: 'response.output_audio.delta', delta: 42 }));
        fake.sendRaw(JSON.stringify({ type: 'no.such.event' }));
        fake.sendRaw('[1,2,3]');
        return 3;
      },
      close: () => fake.close(),
    };
  },
};

const gemini: Backend = {
  name: 'gemini-live',
  async start(o) {
    const fake = await FakeGeminiServer.start({
      answerMs: o.answerMs, speedFactor: o.speedFactor, detectionDelayMs: o.detectionDelayMs,
      ...(o.dropAfterChunks === undefined ? {} : { dropAfterChunks: o.dropAfterChunks }),
    });
    if (o.toolCall !== undefined) fake.toolPlans.push(o.toolCall);
    return {
      env: { MODEL_BACKEND: 'gemini-live', GEMINI_API_KEY: 'test-key', GEMINI_LIVE_URL: fake.url() },
      stopsHonoured: () => fake.eventsOf('interrupted').length,
      heardReports: () => fake.notes.items.map((n) => n.text),
      connections: () => fake.server.upgrades.length,
      until: (check, what, timeoutMs) => fake.until(check, what, timeoutMs),
      toolCalls: () => fake.tools.items.filter((t) => t.kind === 'call').map((t) => ({ at: t.at, text: t.text })),
      // Gemini's `response` is an object: a plain output travels as {output}.
      toolResults: () => fake.tools.items.filter((t) => t.kind === 'result').map((t) => ({ at: t.at, text: unwrapOutput(t.text) })),
      sendMalformed: () => {
        fake.sendRaw('{not json');
        fake.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: '***' } }] } } });
        fake.send({ somethingNew: {} });
        return 3;
      },
      close: () => fake.close(),
    };
  },
};

const deepgram: Backend = {
  name: 'deepgram-agent',
  async start(o) {
    const fake = await FakeDeepgramServer.start({
      answerMs: o.answerMs, speedFactor: o.speedFactor, detectionDelayMs: o.detectionDelayMs,
      ...(o.dropAfterChunks === undefined ? {} : { dropAfterChunks: o.dropAfterChunks }),
    });
    if (o.toolCall !== undefined) fake.toolPlans.push(o.toolCall);
    return {
      env: { MODEL_BACKEND: 'deepgram-agent', DEEPGRAM_API_KEY: 'test-key', DEEPGRAM_AGENT_URL: fake.url() },
      stopsHonoured: () => fake.recordsOf('interrupted').length,
      heardReports: () => fake.recordsOf('update-prompt').map((r) => r.text ?? ''),
      connections: () => fake.server.upgrades.length,
      until: (check, what, timeoutMs) => fake.until(check, what, timeoutMs),
      toolCalls: () => fake.recordsOf('tool-call').map((r) => ({ at: r.at, text: JSON.stringify((JSON.parse(r.text ?? '{}') as { args: unknown }).args) })),
      toolResults: () => fake.recordsOf('tool-result').map((r) => ({ at: r.at, text: r.text ?? '' })),
      sendMalformed: () => {
        fake.sendRaw('{not json');
        fake.send({ type: 'ConversationText', role: 'robot', content: 'x' });
        fake.send({ type: 'SomethingNew' });
        return 3;
      },
      close: () => fake.close(),
    };
  },
};

const elevenlabs: Backend = {
  name: 'elevenlabs-agent',
  async start(o) {
    const fake = await FakeElevenServer.start({
      answerMs: o.answerMs, speedFactor: o.speedFactor, detectionDelayMs: o.detectionDelayMs, pingEveryMs: 500,
      ...(o.dropAfterChunks === undefined ? {} : { dropAfterChunks: o.dropAfterChunks }),
    });
    if (o.toolCall !== undefined) fake.toolPlans.push(o.toolCall);
    return {
      env: { MODEL_BACKEND: 'elevenlabs-agent', ELEVENLABS_API_KEY: 'test-key', ELEVENLABS_AGENT_ID: 'agent_fake', ELEVENLABS_URL: fake.url() },
      stopsHonoured: () => fake.recordsOf('interrupted').length,
      heardReports: () => fake.recordsOf('contextual-update').map((r) => r.text ?? ''),
      connections: () => fake.server.upgrades.length,
      until: (check, what, timeoutMs) => fake.until(check, what, timeoutMs),
      toolCalls: () => fake.recordsOf('tool-call').map((r) => ({ at: r.at, text: JSON.stringify((JSON.parse(r.text ?? '{}') as { args: unknown }).args) })),
      toolResults: () => fake.recordsOf('tool-result').map((r) => ({ at: r.at, text: r.text ?? '' })),
      sendMalformed: () => {
        fake.sendRaw('{not json');
        fake.send({ type: 'audio', audio_event: { audio_base_64: '***', event_id: 1 } });
        fake.send({ type: 'brand_new_event' });
        return 3;
      },
      close: () => fake.close(),
    };
  },
};

/** Gemini's `{output: "…"}` wrapper around a plain-text output, removed; objects as they are. */
function unwrapOutput(responseJson: string): string {
  const response = JSON.parse(responseJson) as Record<string, unknown>;
  const keys = Object.keys(response);
  return keys.length === 1 && keys[0] === 'output' && typeof response.output === 'string' ? response.output : responseJson;
}

const ALL: readonly Backend[] = [realtime, gemini, deepgram, elevenlabs];

/** Every backend, or only those named in MODEL_CONFORMANCE (comma-separated) when it is set. */
export const BACKENDS: readonly Backend[] = ((only) => (only === undefined || only === '' ? ALL : ALL.filter((b) => only.split(',').includes(b.name))))(
  process.env.MODEL_CONFORMANCE,
);
