/** The conversation history stays within its bounds however long the call, and truncates to what was heard. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConversationHistory } from '../../../src/models/cascade/history.js';

describe('ConversationHistory', () => {
  test('keeps the newest messages within maxMessages and maxChars (property)', () => {
    const op = fc.tuple(fc.constantFrom('user' as const, 'assistant' as const), fc.string({ maxLength: 300 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 500 }), fc.array(op, { maxLength: 60 }), (maxMessages, maxChars, ops) => {
        const history = new ConversationHistory({ maxMessages, maxChars });
        for (const [role, text] of ops) {
          history.add(role, text);
          const messages = history.messages();
          assert.ok(messages.length <= maxMessages);
          const chars = messages.reduce((n, m) => n + m.content.length, 0);
          assert.ok(chars <= maxChars);
          assert.equal(chars, history.totalChars);
        }
        const last = ops.map(([, t]) => t.trim()).filter((t) => t.length > 0).at(-1);
        if (last !== undefined) assert.ok(last.endsWith(history.messages().at(-1)?.content ?? '∅'));
      }),
    );
  });

  test('truncate replaces an assistant message with the heard text, or removes it when nothing was heard', () => {
    const history = new ConversationHistory();
    history.add('user', 'hi');
    history.add('assistant', 'Hello there. How are you today?', 'r1');
    history.add('assistant', 'Another answer.', 'r2');
    assert.equal(history.truncate('r1', 'Hello there.'), true);
    assert.equal(history.textOf('r1'), 'Hello there.');
    assert.equal(history.totalChars, 'hi'.length + 'Hello there.'.length + 'Another answer.'.length);
    assert.equal(history.truncate('r2', ''), true);
    assert.deepEqual(history.messages().map((m) => m.role), ['user', 'assistant']);
    assert.equal(history.truncate('gone', 'x'), false);
  });
});

describe('ConversationHistory: function calls', () => {
  test('a tool output is kept only after the call it answers, and leaves with it', () => {
    const history = new ConversationHistory({ maxMessages: 3 });
    history.addToolResult('nobody-asked', 'x');
    assert.equal(history.length, 0, 'an output without its call is not kept');
    history.add('user', 'where is my order');
    history.addToolCalls('', [{ id: 'c1', name: 'lookup', arguments: '{}' }], 'r1');
    history.addToolResult('c1', 'shipped');
    assert.deepEqual(history.messages().map((m) => m.role), ['user', 'assistant', 'tool']);
    history.add('assistant', 'It shipped.', 'r2');
    // Over 3 messages: the user goes first; then the call is oldest, and its output goes with it.
    history.add('user', 'thanks');
    assert.deepEqual(history.messages().map((m) => m.role), ['assistant', 'user']);
  });

  test('a barge-in that heard nothing of a function-calling answer keeps its calls (regression)', () => {
    // Removing the message would orphan the function outputs that answer it: the API refuses those.
    const history = new ConversationHistory();
    history.addToolCalls('Let me check.', [{ id: 'c1', name: 'lookup', arguments: '{}' }], 'r1');
    history.truncate('r1', '');
    history.addToolResult('c1', 'shipped');
    assert.deepEqual(history.messages(), [
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }] },
      { role: 'tool', content: 'shipped', toolCallId: 'c1' },
    ]);
  });
});
