/**
 * Pure codec for the Gemini Live API (`BidiGenerateContent` over WebSocket): JSON ⇄ typed events,
 * no I/O (house style 10). Field names follow the `@google/genai` Live types (`LiveServerMessage`,
 * `LiveServerContent`, `LiveServerGoAway`, `LiveServerSessionResumptionUpdate`) and the raw
 * `BidiGenerateContentSetup` of https://ai.google.dev/api/live.
 *
 * One server message can carry several things (audio parts, transcriptions, `interrupted`,
 * `turnComplete`), so parsing returns a list of events in the order a client should act on them.
 * Parsing never throws: malformed input is a coded error result and the connection lives on.
 */
import { encodeBase64 } from '../../audio/base64.js';
import { vwError } from '../../errors.js';
import type { TokenUsage, ToolDefinition } from '../model.js';
import { geminiUsage } from '../shared/token-usage.js';
import {
  BadField, base64At, guard, isObject, optionalArray, optionalBoolean, optionalObject, optionalString, parseObject,
  requiredString, type Json, type ParseResult,
} from '../shared/json-fields.js';

/** Largest server message accepted (audio chunks are a few KB; tool calls can be larger). */
export const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;
/** Largest inline audio part accepted, bytes (10 s of 24 kHz PCM16). */
export const MAX_AUDIO_BYTES = 480_000;

export const INPUT_MIME = 'audio/pcm;rate=16000';

export type GeminiServerEvent =
  | { readonly kind: 'setup-complete' }
  | { readonly kind: 'audio'; readonly bytes: Uint8Array; readonly sampleRate: number }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'input-transcription'; readonly text: string }
  | { readonly kind: 'output-transcription'; readonly text: string }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'generation-complete' }
  | { readonly kind: 'turn-complete' }
  | { readonly kind: 'go-away'; readonly timeLeftMs: number | undefined }
  | { readonly kind: 'resumption-update'; readonly handle: string | undefined; readonly resumable: boolean }
  | { readonly kind: 'tool-call'; readonly calls: readonly GeminiFunctionCall[] }
  | { readonly kind: 'tool-call-cancellation'; readonly ids: readonly string[] }
  /** Token counts (`usageMetadata`); `usage` undefined when the report is malformed (ignored, not an error). */
  | { readonly kind: 'usage'; readonly usage: TokenUsage | undefined };

export interface GeminiFunctionCall {
  readonly id: string | undefined;
  readonly name: string;
  readonly args: Json;
}

/** Top-level fields of `LiveServerMessage` the codec understands (one or more per message). */
export const SERVER_MESSAGE_FIELDS = [
  'setupComplete', 'serverContent', 'toolCall', 'toolCallCancellation', 'goAway', 'sessionResumptionUpdate', 'usageMetadata',
] as const;

/** Parses one server message (Gemini sends JSON in text or binary frames; decode binary as UTF-8 first). */
export function parseGeminiMessage(text: string): ParseResult<GeminiServerEvent> {
  const parsed = parseObject(text, MAX_MESSAGE_CHARS);
  if (!parsed.ok) return parsed;
  const message = parsed.value;
  if (!SERVER_MESSAGE_FIELDS.some((field) => field in message)) {
    return { ok: false, error: vwError('VW_ERR_UNKNOWN_EVENT', Object.keys(message).slice(0, 3).join(',') || '(empty)') };
  }
  return guard(() => {
    const events: GeminiServerEvent[] = [];
    if (message.setupComplete !== undefined) {
      if (!isObject(message.setupComplete)) throw new BadField('setupComplete');
      events.push({ kind: 'setup-complete' });
    }
    // Usage first: when it shares a message with `turnComplete`, the answer it counts is still open.
    if (message.usageMetadata !== undefined) events.push({ kind: 'usage', usage: geminiUsage(message.usageMetadata) });
    const content = optionalObject(message, 'serverContent', 'serverContent');
    if (content !== undefined) events.push(...serverContentEvents(content));
    const toolCall = optionalObject(message, 'toolCall', 'toolCall');
    if (toolCall !== undefined) events.push({ kind: 'tool-call', calls: functionCalls(toolCall) });
    const cancellation = optionalObject(message, 'toolCallCancellation', 'toolCallCancellation');
    if (cancellation !== undefined) {
      const ids = (optionalArray(cancellation, 'ids', 'toolCallCancellation.ids') ?? []).map((id, i) => {
        if (typeof id !== 'string') throw new BadField(`toolCallCancellation.ids[${i}]`);
        return id;
      });
      events.push({ kind: 'tool-call-cancellation', ids });
    }
    const goAway = optionalObject(message, 'goAway', 'goAway');
    if (goAway !== undefined) events.push({ kind: 'go-away', timeLeftMs: durationMs(optionalString(goAway, 'timeLeft', 'goAway.timeLeft', 64), 'goAway.timeLeft') });
    const update = optionalObject(message, 'sessionResumptionUpdate', 'sessionResumptionUpdate');
    if (update !== undefined) {
      const handle = optionalString(update, 'newHandle', 'sessionResumptionUpdate.newHandle', 4096);
      const resumable = optionalBoolean(update, 'resumable', 'sessionResumptionUpdate.resumable') ?? false;
      events.push({ kind: 'resumption-update', handle: handle === '' ? undefined : handle, resumable });
    }
    return events;
  });
}

function serverContentEvents(content: Json): GeminiServerEvent[] {
  const events: GeminiServerEvent[] = [];
  const input = optionalObject(content, 'inputTranscription', 'serverContent.inputTranscription');
  const inputText = input && optionalString(input, 'text', 'serverContent.inputTranscription.text');
  if (inputText) events.push({ kind: 'input-transcription', text: inputText });
  if (optionalBoolean(content, 'interrupted', 'serverContent.interrupted') === true) events.push({ kind: 'interrupted' });
  const turn = optionalObject(content, 'modelTurn', 'serverContent.modelTurn');
  const parts = turn === undefined ? [] : (optionalArray(turn, 'parts', 'serverContent.modelTurn.parts') ?? []);
  parts.forEach((part, i) => {
    const path = `serverContent.modelTurn.parts[${i}]`;
    if (!isObject(part)) throw new BadField(path);
    const inline = optionalObject(part, 'inlineData', `${path}.inlineData`);
    if (inline !== undefined) {
      const mimeType = requiredString(inline, 'mimeType', `${path}.inlineData.mimeType`, 128);
      const sampleRate = pcmRate(mimeType);
      if (sampleRate === undefined) throw new BadField(`${path}.inlineData.mimeType`);
      events.push({ kind: 'audio', bytes: base64At(inline, 'data', `${path}.inlineData.data`, MAX_AUDIO_BYTES), sampleRate });
      return;
    }
    const text = optionalString(part, 'text', `${path}.text`);
    // Thought summaries are not speech.
    if (text && part.thought !== true) events.push({ kind: 'text', text });
  });
  const output = optionalObject(content, 'outputTranscription', 'serverContent.outputTranscription');
  const outputText = output && optionalString(output, 'text', 'serverContent.outputTranscription.text');
  if (outputText) events.push({ kind: 'output-transcription', text: outputText });
  if (optionalBoolean(content, 'generationComplete', 'serverContent.generationComplete') === true) events.push({ kind: 'generation-complete' });
  if (optionalBoolean(content, 'turnComplete', 'serverContent.turnComplete') === true) events.push({ kind: 'turn-complete' });
  return events;
}

function functionCalls(toolCall: Json): GeminiFunctionCall[] {
  return (optionalArray(toolCall, 'functionCalls', 'toolCall.functionCalls') ?? []).map((call, i) => {
    const path = `toolCall.functionCalls[${i}]`;
    if (!isObject(call)) throw new BadField(path);
    return {
      id: optionalString(call, 'id', `${path}.id`, 256),
      name: requiredString(call, 'name', `${path}.name`, 256),
      args: optionalObject(call, 'args', `${path}.args`) ?? {},
    };
  });
}

/** `audio/pcm;rate=24000` → 24000; `audio/pcm` alone is the documented 24 kHz output. */
export function pcmRate(mimeType: string): number | undefined {
  const match = /^audio\/pcm(?:;\s*rate=(\d{4,6}))?$/i.exec(mimeType.trim());
  if (match === null) return undefined;
  const rate = match[1] === undefined ? 24000 : Number(match[1]);
  return rate === 8000 || rate === 16000 || rate === 24000 ? rate : undefined;
}

/** A protobuf JSON Duration ("30s", "1.5s") in ms; undefined when absent. */
export function durationMs(value: string | undefined, path: string): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,9})(?:\.(\d{1,9}))?s$/.exec(value);
  if (match === null) throw new BadField(path);
  return Number(match[1]) * 1000 + Math.round(Number(`0.${match[2] ?? '0'}`) * 1000);
}

// --- client messages ---

export interface GeminiSetupSettings {
  /** Model resource name, e.g. `models/gemini-3.1-flash-live-preview`. */
  readonly model: string;
  readonly voice: string | undefined;
  readonly instructions: string | undefined;
  /** Handle of the session to resume (after goAway or a drop); undefined starts a new session. */
  readonly resumptionHandle: string | undefined;
  /** Functions the model may call (`setup.tools[].functionDeclarations`); none when empty. */
  readonly tools?: readonly ToolDefinition[];
}

/** The first client message: `setup` (BidiGenerateContentSetup). */
export function buildSetup(settings: GeminiSetupSettings): string {
  const model = settings.model.startsWith('models/') || settings.model.includes('/') ? settings.model : `models/${settings.model}`;
  const setup: Json = {
    model,
    generationConfig: {
      responseModalities: ['AUDIO'],
      ...(settings.voice === undefined ? {} : { speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: settings.voice } } } }),
    },
    ...(settings.instructions === undefined ? {} : { systemInstruction: { parts: [{ text: settings.instructions }] } }),
    ...(settings.tools === undefined || settings.tools.length === 0 ? {} : {
      tools: [{ functionDeclarations: settings.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })) }],
    }),
    // Server VAD, and speech from the caller interrupts the model (the documented defaults, explicit).
    realtimeInputConfig: { automaticActivityDetection: { disabled: false }, activityHandling: 'START_OF_ACTIVITY_INTERRUPTS' },
    // Resumption handles survive the ~10 min connection limit; compression lifts the ~15 min session limit.
    sessionResumption: settings.resumptionHandle === undefined ? {} : { handle: settings.resumptionHandle },
    contextWindowCompression: { slidingWindow: {} },
    inputAudioTranscription: {},
    outputAudioTranscription: {},
  };
  return JSON.stringify({ setup });
}

/** Caller audio: `realtimeInput.audio` as PCM16 16 kHz. */
export function buildRealtimeAudio(pcm16k: Uint8Array): string {
  return JSON.stringify({ realtimeInput: { audio: { data: encodeBase64(pcm16k), mimeType: INPUT_MIME } } });
}

/**
 * A function's result: `toolResponse.functionResponses[{id, name, response}]`. `response` is a JSON
 * object; Google's docs name `output` for a result and `error` for a failure. An output that is
 * itself a JSON object (the tool runner's failure output is `{"error": …}`) is sent as it is;
 * any other output goes as `{output}`.
 */
export function buildToolResponse(id: string, name: string, output: string): string {
  return JSON.stringify({ toolResponse: { functionResponses: [{ id, name, response: responseObject(output) }] } });
}

function responseObject(output: string): Json {
  try {
    const value: unknown = JSON.parse(output);
    if (isObject(value)) return value;
  } catch {
    // not JSON: plain text output
  }
  return { output };
}

/**
 * Context without a reply: a `clientContent` user turn with `turnComplete: false` adds to the
 * conversation and does not start generation.
 */
export function buildContextNote(text: string): string {
  return JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: false } });
}
