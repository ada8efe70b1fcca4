/**
 * Token usage as the providers report it, read leniently: usage is telemetry, so a missing or
 * malformed report is ignored (undefined), never an error that could disturb the call.
 */
import type { TokenUsage } from '../model.js';

function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function usageOf(input: unknown, output: unknown): TokenUsage | undefined {
  const inputTokens = tokenCount(input);
  const outputTokens = tokenCount(output);
  return inputTokens === undefined || outputTokens === undefined ? undefined : { inputTokens, outputTokens };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OpenAI Realtime `response.done` → `response.usage` (`input_tokens`, `output_tokens`). */
export function realtimeUsage(usage: unknown): TokenUsage | undefined {
  return isRecord(usage) ? usageOf(usage.input_tokens, usage.output_tokens) : undefined;
}

/**
 * Gemini Live `usageMetadata` (`UsageMetadata` of @google/genai): `promptTokenCount` and
 * `responseTokenCount` (Live) or `candidatesTokenCount` (the generateContent name).
 */
export function geminiUsage(metadata: unknown): TokenUsage | undefined {
  if (!isRecord(metadata)) return undefined;
  return usageOf(metadata.promptTokenCount, metadata.responseTokenCount ?? metadata.candidatesTokenCount);
}
