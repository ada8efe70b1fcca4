/**
 * The acting agent inside a CallSession, with in-memory transport and model and in-process tools
 * (deferred, so the test decides when each finishes): one response per batch of calls, none after
 * a barge-in, `end_call` only after the played reports, events in order whatever happens.
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { TWILIO_FORMAT } from '../../src/audio/format.js';
import { MULAW_SILENCE } from '../../src/audio/mulaw.js';
import { toneMulaw } from '../fakes/twilio-caller.js';
import { CallSession } from '../../src/session/call-session.js';
import { silentLogger } from '../../src/server/logger.js';
import type { AgentServices } from '../../src/agent/services.js';
import type { CallEvent } from '../../src/agent/events.js';
import type { FunctionTool } from '../../src/agent/tool-runner.js';
import type { ModelCallSettings, ModelEvents, ModelFactoryOptions } from '../../src/models/model.js';
import { Conditions } from '../helpers/conditions.js';
import type { OutboundAudio } from '../../src/transports/transport.js';
import { RecordingModel, RecordingTransport } from './fakes.js';
import type { CallSessionOptions } from '../../src/session/call-session-options.js';
import type { WindowChange } from '../../src/flow/window-tuner.js';

class ToolModel extends RecordingModel {
  readonly results: Array<{ callId: string; output: string; respond: boolean }> = [];
  settings: ModelCallSettings | undefined;
  readonly conditions = new Conditions('tool model');
  attached = false;
  override attach(events: ModelEvents): void {
    super.attach(events);
    this.attached = true;
    this.conditions.notify();
  }
  toolResult(callId: string, output: string, respond: boolean): void {
    this.results.push({ callId, output, respond });
    this.conditions.notify();
  }
}

/** A transport whose sends can be waited for. */
class WatchedTransport extends RecordingTransport {
  readonly conditions = new Conditions('transport');
  override sendAudio(chunk: OutboundAudio): void {
    super.sendAudio(chunk);
    this.conditions.notify();
  }
}

/** A tool whose runs finish when the test says so. */
function deferredTool(name: string): { tool: FunctionTool; finish(callId: string, output: string): void } {
  const pending = new Map<string, (output: string) => void>();
  return {
    tool: { name, run: (_args, ctx) => new Promise<string>((resolve) => pending.set(ctx.toolCallId, resolve)) },
    finish: (callId, output) => pending.get(callId)?.(output),
  };
}

function start(services: Partial<AgentServices>, extra: Partial<CallSessionOptions> = {}) {
  const transport = new WatchedTransport();
  const model = new ToolModel(false, TWILIO_FORMAT);
  const events: CallEvent[] = [];
  const eventsChanged = new Conditions('events');
  const session = new CallSession({
    transport,
    createModel: (options: ModelFactoryOptions) => ((model.settings = options.settings), model),
    logger: silentLogger(),
    creditWindowMs: 800,
    maxQueuedAudioMs: 120_000,
    agent: {
      services: {
        setup: undefined, setupTimeoutMs: 1000, tools: [],
        sinks: [{ push: (e) => (events.push(e), eventsChanged.notify()) }],
        ...services,
      },
    },
    ...extra,
  });
  transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: { From: '+15550001111' }, format: TWILIO_FORMAT });
  const until = (check: () => boolean, what: string) => eventsChanged.until(check, 2000, what);
  /** The setup is done and the model made (call.setup goes out just before). */
  const ready = () => model.conditions.until(() => model.attached, 2000, 'the model');
  return { session, transport, model, events, until, ready };
}

describe('credit window and the call setup', () => {
  for (const setupWindow of [600, undefined]) {
    test(`CREDIT_WINDOW_MS=auto ${setupWindow === undefined ? 'adapts without a setup window' : 'keeps a window set by the call setup fixed'}`, async () => {
      const clock = { now: 0 };
      const windows: WindowChange[] = [];
      const h = start(
        { setup: { kind: 'function', setupCall: () => (setupWindow === undefined ? {} : { creditWindowMs: setupWindow }) } },
        { adaptiveWindow: true, now: () => clock.now, observer: { windowChanged: (c) => windows.push(c) } },
      );
      await h.ready();
      h.model.events.responseStarted('r1');
      await h.model.deliver('r1', 2_000);
      await h.transport.conditions.until(() => h.transport.sentMs() >= (setupWindow ?? 800), 2000, 'the window sent');
      clock.now = 600;
      h.transport.events.played(0, 100); // a 500 ms round trip: need 1 600
      assert.deepEqual(windows.map((w) => w.windowMs), setupWindow === undefined ? [1_500] : []);
      assert.equal(h.session.snapshot().windowMs, setupWindow ?? 1_500);
      h.session.end('test');
    });
  }
});

describe('local barge-in and the call setup', () => {
  const silence = new Uint8Array(160).fill(MULAW_SILENCE);
  const tone = toneMulaw(40);
  for (const [gatewayMs, setupMs, clears] of [[0, 40, true], [40, 0, false]] as const) {
    test(`LOCAL_BARGE_IN_MS=${gatewayMs} with a setup of localBargeInMs ${setupMs}: the setup decides (${clears ? 'on' : 'off'}), and call.setup says so`, async () => {
      const h = start({ setup: { kind: 'function', setupCall: () => ({ localBargeInMs: setupMs }) } }, { localBargeInMs: gatewayMs, startCushionMs: 0 });
      await h.ready();
      const setup = h.events.find((e) => e.type === 'call.setup');
      assert.equal(setup?.type === 'call.setup' ? setup.localBargeInMs : undefined, setupMs);
      h.model.events.responseStarted('r1');
      await h.model.deliver('r1', 2_000);
      await h.transport.conditions.until(() => h.transport.sentMs() >= 800, 2000, 'the window sent');
      for (let i = 0; i < 50; i++) h.transport.events.audio(silence, 20);
      h.transport.events.audio(tone.subarray(0, 160), 20);
      h.transport.events.audio(tone.subarray(160, 320), 20);
      assert.deepEqual(h.transport.clears(), clears ? [1] : []);
      h.session.end('test');
    });
  }

  test('a setup of localBargeInHoldMs 300 holds its call for 300 ms, not the gateway\'s 1 000, and call.setup says so', async (t) => {
    const outcomes: boolean[] = [];
    const h = start(
      { setup: { kind: 'function', setupCall: () => ({ localBargeInHoldMs: 300 }) } },
      { localBargeInMs: 40, localBargeInHoldMs: 1_000, startCushionMs: 0, observer: { localBargeIn: (confirmed) => outcomes.push(confirmed) } },
    );
    await h.ready();
    const setup = h.events.find((e) => e.type === 'call.setup');
    assert.equal(setup?.type === 'call.setup' ? setup.localBargeInHoldMs : undefined, 300);
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 2_000);
    await h.transport.conditions.until(() => h.transport.sentMs() >= 800, 2000, 'the window sent');
    t.after(() => mock.timers.reset());
    mock.timers.enable({ apis: ['setTimeout'] }); // the hold's timer starts at the clear, below
    for (let i = 0; i < 50; i++) h.transport.events.audio(silence, 20);
    h.transport.events.audio(tone.subarray(0, 160), 20);
    h.transport.events.audio(tone.subarray(160, 320), 20);
    assert.deepEqual(h.transport.clears(), [1]);
    mock.timers.tick(299);
    assert.deepEqual(outcomes, []);
    mock.timers.tick(1);
    assert.deepEqual(outcomes, [false], 'no speech start from the model within the call\'s hold: a false start');
    h.session.end('test');
  });
});

describe('AgentBridge in a call', () => {
  test('two calls of one response: the first result adds, the last one asks for the answer', async () => {
    const lookup = deferredTool('lookup');
    const h = start({ tools: [lookup.tool] });
    await h.ready();
    assert.deepEqual(h.model.settings?.tools?.map((t) => t.name), ['lookup']);
    h.model.events.responseStarted('r1');
    h.model.events.responseDone('r1', 'completed');
    h.model.events.toolCalls?.([
      { responseId: 'r1', callId: 'c1', name: 'lookup', arguments: '{}' },
      { responseId: 'r1', callId: 'c2', name: 'lookup', arguments: '{}' },
    ]);
    lookup.finish('c2', 'two');
    await h.model.conditions.until(() => h.model.results.length === 1, 2000, 'first result');
    lookup.finish('c1', 'one');
    await h.model.conditions.until(() => h.model.results.length === 2, 2000, 'second result');
    assert.deepEqual(h.model.results, [
      { callId: 'c2', output: 'two', respond: false },
      { callId: 'c1', output: 'one', respond: true },
    ]);
    h.session.end('test');
  });

  test('a result after a barge-in is added without asking for a response', async () => {
    const lookup = deferredTool('lookup');
    const h = start({ tools: [lookup.tool] });
    await h.ready();
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 500);
    h.model.events.responseDone('r1', 'completed');
    h.model.events.toolCalls?.([{ responseId: 'r1', callId: 'c1', name: 'lookup', arguments: '{}' }]);
    await h.transport.conditions.until(() => h.transport.sentMs() > 0, 2000, 'audio sent');
    h.model.events.speechStarted(); // barge-in over the unplayed answer
    assert.deepEqual(h.transport.clears(), [1]);
    lookup.finish('c1', 'late');
    await h.model.conditions.until(() => h.model.results.length === 1, 2000, 'the late result');
    assert.deepEqual(h.model.results, [{ callId: 'c1', output: 'late', respond: false }]);
    h.session.end('test');
    const types = h.events.map((e) => e.type);
    assert.deepEqual(types, ['call.started', 'call.setup', 'tool.called', 'barge_in', 'transcript.agent', 'tool.result', 'call.ended']);
  });

  test('end_call closes only after the caller reported everything played', async () => {
    const h = start({ setup: { kind: 'function', setupCall: () => ({ endCall: true }) } });
    await h.ready();
    assert.deepEqual(h.model.settings?.tools?.map((t) => t.name), ['end_call']);
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 600);
    h.model.events.responseDone('r1', 'completed');
    h.model.events.toolCalls?.([{ responseId: 'r1', callId: 'c1', name: 'end_call', arguments: '{}' }]);
    await h.transport.conditions.until(() => h.transport.sentMs() === 600, 2000, 'the goodbye sent');
    h.transport.events.played(0, 300);
    assert.equal(h.transport.calls.some((c) => c.kind === 'close'), false, 'half played: still open');
    h.transport.events.played(0, 600);
    await h.session.ended;
    assert.deepEqual(h.transport.calls.at(-1), { kind: 'close', code: 1000, reason: 'end_call' });
    const ended = h.events.at(-1)!;
    assert.equal(ended.type, 'call.ended');
    assert.equal(ended.type === 'call.ended' && ended.reason, 'end_call');
  });

  test('a barge-in during the goodbye calls the hang-up off; the model is told, no response is forced', async () => {
    const h = start({ setup: { kind: 'function', setupCall: () => ({ endCall: true }) } });
    await h.ready();
    h.model.events.responseStarted('r1');
    await h.model.deliver('r1', 600);
    h.model.events.responseDone('r1', 'completed');
    h.model.events.toolCalls?.([{ responseId: 'r1', callId: 'c1', name: 'end_call', arguments: '{}' }]);
    await h.transport.conditions.until(() => h.transport.sentMs() === 600, 2000, 'the goodbye sent');
    h.transport.events.played(0, 200);
    h.model.events.speechStarted();
    await h.model.conditions.until(() => h.model.results.length === 1, 2000, 'the call-off output');
    assert.equal(h.model.results[0]!.respond, false);
    assert.match(h.model.results[0]!.output, /caller interrupted before end_call/);
    assert.equal(h.transport.calls.some((c) => c.kind === 'close'), false, 'the call goes on');
    const result = h.events.find((e) => e.type === 'tool.result');
    assert.ok(result?.type === 'tool.result' && !result.ok && result.failure === 'aborted');
    h.session.end('test');
  });

  test('a caller who hangs up during setup gets call.ended last, and no model', async () => {
    let created = false;
    const transport = new RecordingTransport();
    const events: CallEvent[] = [];
    const session = new CallSession({
      transport, createModel: () => ((created = true), new ToolModel(false, TWILIO_FORMAT)), logger: silentLogger(), creditWindowMs: 800, maxQueuedAudioMs: 120_000,
      agent: { services: { setup: { kind: 'function', setupCall: (_r, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined))) }, setupTimeoutMs: 5000, tools: [], sinks: [{ push: (e) => events.push(e) }] } },
    });
    transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
    transport.events.closed(1000, 'hung up');
    await session.ended;
    // The setup's continuation is a chain of promise jobs with no I/O: all of it has run before
    // the next macrotask, so one setImmediate is a full settle point (there is no event to await).
    await setImmediatePromise();
    assert.equal(created, false);
    assert.deepEqual(events.map((e) => e.type), ['call.started', 'call.ended']);
  });

  test('reject ends the call with 4022 before any model is made', async () => {
    let created = false;
    const transport = new RecordingTransport();
    const session = new CallSession({
      transport, createModel: () => ((created = true), new ToolModel(false, TWILIO_FORMAT)), logger: silentLogger(), creditWindowMs: 800, maxQueuedAudioMs: 120_000,
      agent: { services: { setup: { kind: 'function', setupCall: () => ({ reject: true }) }, setupTimeoutMs: 1000, tools: [], sinks: [] } },
    });
    transport.events.start({ callId: 'CA1', streamId: 'MZ1', parameters: {}, format: TWILIO_FORMAT });
    await session.ended;
    assert.equal(created, false);
    assert.deepEqual(transport.calls, [{ kind: 'close', code: 4022, reason: 'VW_ERR_CALL_REJECTED' }]);
  });
});
