/**
 * ToolRunner against a fake tool server on 127.0.0.1: every ending — answer, deadline, non-200,
 * oversized, malformed, unknown tool, bad arguments, too many at once — is an output for the model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ToolRunner, failureOutput, type AgentTool } from '../../src/agent/tool-runner.js';
import { FakeHttpEndpoint, jsonOf, type Reply } from '../fakes/http-endpoint.js';

const replies: Record<string, Reply> = {
  '/ok': { status: 200, json: { output: 'shipped' } },
  '/json': { status: 200, json: { output: { eta: 'Friday', items: 2 } } },
  '/slow': { status: 200, json: { output: 'late' }, delayMs: 2_000 },
  '/hang': 'hang',
  '/500': { status: 500, json: { error: 'down' } },
  '/201': { status: 201, json: { output: 'created' } },
  '/huge': { status: 200, json: { output: 'x'.repeat(65 * 1024) } },
  '/no-output': { status: 200, json: { result: 'x' } },
  '/not-json': { status: 200, text: 'hello' },
};

let server: FakeHttpEndpoint;
before(async () => {
  server = await FakeHttpEndpoint.start((request) => replies[request.path] ?? { status: 404 });
});
after(() => server.close());

function runner(tools: AgentTool[], maxInFlight?: number, signal = new AbortController().signal): ToolRunner {
  return new ToolRunner({ callId: 'CA1', tools, signal, ...(maxInFlight === undefined ? {} : { maxInFlight }) });
}

function http(name: string, path: string, timeoutMs = 1_000): AgentTool {
  return { name, description: '', parameters: {}, url: server.url(path), timeoutMs };
}

describe('ToolRunner: HTTP tools', () => {
  test('posts callId, toolCallId, name and parsed arguments; a string output passes as is', async () => {
    const result = await runner([http('lookup', '/ok')]).run({ toolCallId: 'call_1', name: 'lookup', arguments: '{"id":"A-1"}' });
    assert.equal(result.ok, true);
    assert.equal(result.output, 'shipped');
    assert.deepEqual(jsonOf(server.to('/ok').at(-1)!), { callId: 'CA1', toolCallId: 'call_1', name: 'lookup', arguments: { id: 'A-1' } });
  });

  test('a JSON output is serialized for the model', async () => {
    const result = await runner([http('t', '/json')]).run({ toolCallId: 'c', name: 't', arguments: '' });
    assert.equal(result.output, '{"eta":"Friday","items":2}');
  });

  const failures: Array<[string, string, string]> = [
    ['an answer past the deadline', '/slow', 'timeout'],
    ['a server that never answers', '/hang', 'timeout'],
    ['a 500', '/500', 'status'],
    ['a 201 (the contract is 200)', '/201', 'status'],
    ['an answer over 64 KiB (declared)', '/huge', 'too-large'],
    ['an answer without `output`', '/no-output', 'bad-answer'],
    ['an answer that is not JSON', '/not-json', 'invalid-json'],
  ];
  for (const [what, path, failure] of failures) {
    test(`${what} → failure output (${failure})`, async () => {
      const result = await runner([http('t', path, 300)]).run({ toolCallId: 'c', name: 't', arguments: '{}' });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure, failure);
      assert.equal(result.output, failureOutput('t', result.failure));
      if (failure === 'timeout') assert.ok(result.durationMs >= 290 && result.durationMs < 800, `${result.durationMs} ms`);
    });
  }

  test('ending the call abandons a running tool at once', async () => {
    const call = new AbortController();
    const running = runner([http('t', '/hang', 5_000)], undefined, call.signal).run({ toolCallId: 'c', name: 't', arguments: '{}' });
    call.abort();
    const result = await running;
    assert.equal(result.ok ? 'ok' : result.failure, 'aborted');
  });
});

describe('ToolRunner: bounds and bad calls', () => {
  test('an unknown tool and arguments that are not JSON fail without a request', async () => {
    const before = server.requests.length;
    const r = runner([http('t', '/ok')]);
    const unknown = await r.run({ toolCallId: 'c', name: 'nope', arguments: '{}' });
    const badArgs = await r.run({ toolCallId: 'c', name: 't', arguments: '{oops' });
    assert.deepEqual([unknown.ok || unknown.failure, badArgs.ok || badArgs.failure], ['unknown-tool', 'bad-arguments']);
    assert.equal(server.requests.length, before);
  });

  test('past maxInFlight a call fails busy at once; the slot is free again after', async () => {
    const r = runner([http('slow', '/hang', 400), http('fast', '/ok')], 2);
    const first = r.run({ toolCallId: '1', name: 'slow', arguments: '{}' });
    const second = r.run({ toolCallId: '2', name: 'slow', arguments: '{}' });
    assert.equal(r.running, 2);
    const third = await r.run({ toolCallId: '3', name: 'fast', arguments: '{}' });
    assert.equal(third.ok ? 'ok' : third.failure, 'busy');
    await Promise.all([first, second]);
    assert.equal(r.running, 0);
    const fourth = await r.run({ toolCallId: '4', name: 'fast', arguments: '{}' });
    assert.equal(fourth.ok, true);
  });
});

describe('ToolRunner: function tools (library API)', () => {
  test('gets parsed arguments and the call context; returns its value as the output', async () => {
    let seen: unknown;
    const result = await runner([{ name: 'add', run: (args, ctx) => ((seen = [args, ctx.callId, ctx.toolCallId]), { sum: 3 }) }])
      .run({ toolCallId: 'c9', name: 'add', arguments: '{"a":1,"b":2}' });
    assert.deepEqual(seen, [{ a: 1, b: 2 }, 'CA1', 'c9']);
    assert.equal(result.output, '{"sum":3}');
  });

  test('a throwing, a hanging and an oversized function all fail with their reason', async () => {
    const r = runner([
      { name: 'throws', run: () => { throw new Error('boom'); } },
      { name: 'hangs', timeoutMs: 200, run: () => new Promise(() => undefined) },
      { name: 'huge', run: () => 'z'.repeat(70 * 1024) },
    ]);
    const outcomes = await Promise.all(['throws', 'hangs', 'huge'].map((name) => r.run({ toolCallId: name, name, arguments: '{}' })));
    assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.failure)), ['threw', 'timeout', 'too-large']);
  });
});
