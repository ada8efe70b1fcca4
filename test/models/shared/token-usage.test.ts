/**
 * Token usage as OpenAI Realtime (`response.done` → `response.usage`) and Gemini Live
 * (`usageMetadata`) report it, from the golden fixtures; malformed usage is ignored, never thrown.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { geminiUsage, realtimeUsage } from '../../../src/models/shared/token-usage.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as Record<string, unknown>;

describe('realtimeUsage', () => {
  test('reads input and output tokens of the golden response.done', () => {
    const done = json('openai/server.response.done.json') as { response: { usage: unknown } };
    assert.deepEqual(realtimeUsage(done.response.usage), { inputTokens: 132, outputTokens: 121 });
  });

  test('malformed usage is undefined', () => {
    for (const usage of [undefined, null, 7, 'x', [], {}, { input_tokens: 1 }, { input_tokens: -1, output_tokens: 2 },
      { input_tokens: 1.5, output_tokens: 2 }, { input_tokens: '1', output_tokens: 2 }, { input_tokens: 1, output_tokens: Number.NaN }]) {
      assert.equal(realtimeUsage(usage), undefined, JSON.stringify(usage));
    }
  });
});

describe('geminiUsage', () => {
  test('reads prompt and response tokens of the golden turnComplete', () => {
    assert.deepEqual(geminiUsage(json('gemini/server.serverContent.turnComplete.json').usageMetadata), { inputTokens: 12, outputTokens: 40 });
  });

  test('falls back to candidatesTokenCount', () => {
    assert.deepEqual(geminiUsage({ promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 }), { inputTokens: 3, outputTokens: 4 });
  });

  test('malformed usage is undefined', () => {
    for (const metadata of [undefined, null, true, [], {}, { promptTokenCount: 3 }, { promptTokenCount: 3, responseTokenCount: -4 }]) {
      assert.equal(geminiUsage(metadata), undefined, JSON.stringify(metadata));
    }
  });
});

test('any value: both readers return undefined or two non-negative safe integers, never throw', () => {
  const isUsage = (u: unknown): boolean => u === undefined
    || (typeof u === 'object' && u !== null && Object.values(u).length === 2 && Object.values(u).every((n) => Number.isSafeInteger(n) && (n as number) >= 0));
  fc.assert(fc.property(fc.anything(), (value) => isUsage(realtimeUsage(value)) && isUsage(geminiUsage(value))));
  fc.assert(fc.property(fc.record({ input_tokens: fc.anything(), output_tokens: fc.anything() }), (value) => {
    const usage = realtimeUsage(value);
    return usage === undefined || (usage.inputTokens === value.input_tokens && usage.outputTokens === value.output_tokens);
  }));
});
