import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CreditGate } from '../../src/flow/credit-gate.js';
import { isVoicewireError } from '../../src/errors.js';
import { activeTimers, rejectsWithCode, stateOf, throwsWithCode } from './helpers.js';

describe('CreditGate window', () => {
  test('the window defaults to 800 ms and starts full of credit', () => {
    const gate = new CreditGate();
    assert.deepEqual([gate.windowMs, gate.credit, gate.sentMs, gate.playedMs, gate.inFlightMs], [800, 800, 0, 0, 0]);
  });

  test('the window is clamped to 200–2000 ms', () => {
    assert.equal(new CreditGate({ windowMs: 50 }).windowMs, 200);
    assert.equal(new CreditGate({ windowMs: 5000 }).windowMs, 2000);
    assert.equal(new CreditGate({ windowMs: Number.POSITIVE_INFINITY }).windowMs, 2000);
    assert.equal(new CreditGate({ windowMs: 1200 }).windowMs, 1200);
  });

  test('a NaN or negative window is refused with VW_ERR_INVALID_SIZE', () => {
    throwsWithCode(() => new CreditGate({ windowMs: Number.NaN }), 'VW_ERR_INVALID_SIZE');
    throwsWithCode(() => new CreditGate({ windowMs: -1 }), 'VW_ERR_INVALID_SIZE');
  });
});

describe('CreditGate grants and played reports', () => {
  test('a grant adds credit, capped at the window', () => {
    const gate = new CreditGate({ windowMs: 800 });
    assert.equal(gate.trySpend(500), true);
    gate.grant(200);
    assert.equal(gate.credit, 500);
    gate.grant(10_000);
    assert.equal(gate.credit, 800);
  });

  for (const bad of [Number.NaN, -5, Number.POSITIVE_INFINITY]) {
    test(`grant(${bad}) and played(${bad}) are refused with VW_ERR_INVALID_SIZE and do not poison credit`, () => {
      const gate = new CreditGate({ windowMs: 800 });
      gate.trySpend(300);
      throwsWithCode(() => gate.grant(bad), 'VW_ERR_INVALID_SIZE');
      throwsWithCode(() => gate.played(bad), 'VW_ERR_INVALID_SIZE');
      assert.equal(gate.credit, 500);
      gate.grant(100);
      assert.equal(gate.credit, 600);
    });
  }

  test('a played report recomputes credit as window − (sent − played)', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(600);
    gate.played(250);
    assert.deepEqual([gate.credit, gate.playedMs, gate.inFlightMs], [450, 250, 350]);
  });

  test('a lost grant heals at the next played report', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(800);
    // The consumer played 400 ms and granted them, but that grant was lost on the way.
    gate.played(400);
    assert.equal(gate.credit, 400);
  });

  test('a duplicated grant is corrected by the next played report', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(800);
    gate.grant(200);
    gate.grant(200);
    assert.equal(gate.credit, 400);
    gate.played(200);
    assert.equal(gate.credit, 200);
  });

  test('a played report that goes backwards is ignored', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(600);
    gate.played(400);
    gate.played(100);
    assert.deepEqual([gate.playedMs, gate.credit], [400, 600]);
  });

  test('a played report beyond what was sent is clamped to sentMs', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(300);
    gate.played(5000);
    assert.deepEqual([gate.playedMs, gate.credit, gate.inFlightMs], [300, 800, 0]);
  });

  test('credit never goes negative when grants let more than the window into flight', () => {
    const gate = new CreditGate({ windowMs: 800 });
    gate.trySpend(800);
    gate.grant(400);
    gate.trySpend(400);
    gate.played(0);
    assert.equal(gate.credit, 0);
  });
});

describe('CreditGate spending', () => {
  test('trySpend() spends only when credit covers it', () => {
    const gate = new CreditGate({ windowMs: 200 });
    assert.equal(gate.trySpend(150), true);
    assert.equal(gate.trySpend(60), false);
    assert.deepEqual([gate.credit, gate.sentMs], [50, 150]);
  });

  test('spend() larger than the window is refused with VW_ERR_CHUNK_TOO_LARGE', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    await rejectsWithCode(gate.spend(201), 'VW_ERR_CHUNK_TOO_LARGE');
    throwsWithCode(() => gate.trySpend(201), 'VW_ERR_CHUNK_TOO_LARGE');
  });

  test('spend() of an invalid size is refused with VW_ERR_INVALID_SIZE', async () => {
    const gate = new CreditGate();
    await rejectsWithCode(gate.spend(Number.NaN), 'VW_ERR_INVALID_SIZE');
    await rejectsWithCode(gate.spend(-1), 'VW_ERR_INVALID_SIZE');
  });

  test('spend(0) proceeds even with no credit (zero-length markers never wait)', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    await gate.spend(0);
    assert.equal(gate.credit, 0);
  });

  test('spend() waits until a played report brings enough credit', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const spending = gate.spend(100);
    gate.played(50);
    assert.equal(await stateOf(spending), 'pending', '50 ms of credit is not enough for 100');
    gate.played(120);
    await spending;
    assert.deepEqual([gate.credit, gate.sentMs], [20, 300]);
  });

  test('waiting spenders are served in arrival order and trySpend() does not overtake them', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const order: string[] = [];
    const big = gate.spend(150).then(() => order.push('big'));
    const small = gate.spend(20).then(() => order.push('small'));
    gate.grant(50);
    assert.equal(gate.trySpend(10), false);
    assert.equal(await stateOf(small), 'pending', 'the small spend would fit but waits its turn');
    gate.grant(150);
    await Promise.all([big, small]);
    assert.deepEqual(order, ['big', 'small']);
  });

  test('reset() restores the full window and lets waiting spenders proceed', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const spending = gate.spend(200);
    gate.reset();
    await spending;
    assert.deepEqual([gate.credit, gate.sentMs, gate.playedMs], [0, 200, 0]);
  });

  test('abort() rejects every waiting spend() with VW_ERR_ABORTED and the gate stays usable', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const a = gate.spend(100);
    const b = gate.spend(50);
    gate.abort('barge-in');
    await rejectsWithCode(a, 'VW_ERR_ABORTED');
    await rejectsWithCode(b, 'VW_ERR_ABORTED');
    gate.reset();
    await gate.spend(200);
    assert.equal(gate.credit, 0);
  });

  test('a spend that waits past timeoutMs rejects with VW_ERR_DEADLINE and spends nothing', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    await rejectsWithCode(gate.spend(10, { timeoutMs: 5 }), 'VW_ERR_DEADLINE');
    assert.deepEqual([gate.credit, gate.sentMs], [0, 200]);
  });

  test('an aborted signal ends a waiting spend with VW_ERR_ABORTED', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const controller = new AbortController();
    const spending = gate.spend(10, { signal: controller.signal });
    controller.abort();
    await rejectsWithCode(spending, 'VW_ERR_ABORTED');
  });

  test('no timer is left running after a spend with a deadline proceeds', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const before = activeTimers();
    const spending = gate.spend(10, { timeoutMs: 60_000 });
    gate.grant(10);
    await spending;
    assert.equal(activeTimers(), before);
  });
});

describe('CreditGate ready', () => {
  test('ready is resolved while there is credit', async () => {
    assert.equal(await stateOf(new CreditGate().ready), 'fulfilled');
  });

  test('ready waits while credit is zero and resolves at the next grant', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const ready = gate.ready;
    assert.equal(await stateOf(ready), 'pending');
    gate.grant(1);
    await ready;
  });

  test('a pending ready rejects with VW_ERR_ABORTED on abort() and is fresh afterwards', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    const ready = gate.ready;
    gate.abort('barge-in');
    await rejectsWithCode(ready, 'VW_ERR_ABORTED');
    const next = gate.ready;
    assert.equal(await stateOf(next), 'pending');
    gate.reset();
    await next;
  });

  test('an unobserved ready rejected by abort() raises no unhandled rejection', async () => {
    const gate = new CreditGate({ windowMs: 200 });
    gate.trySpend(200);
    void gate.ready;
    let unhandled = false;
    const onUnhandled = (): void => {
      unhandled = true;
    };
    process.on('unhandledRejection', onUnhandled);
    gate.abort('barge-in');
    await new Promise<void>((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    assert.equal(unhandled, false);
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────────

type GateOp =
  | { kind: 'grant'; ms: number }
  | { kind: 'played'; ms: number }
  | { kind: 'spend'; ms: number }
  | { kind: 'reset' }
  | { kind: 'bad' };

const gateOp: fc.Arbitrary<GateOp> = fc.oneof(
  fc.record({ kind: fc.constant('grant' as const), ms: fc.double({ min: 0, max: 3000, noNaN: true }) }),
  fc.record({ kind: fc.constant('played' as const), ms: fc.double({ min: 0, max: 5000, noNaN: true }) }),
  fc.record({ kind: fc.constant('spend' as const), ms: fc.double({ min: 0, max: 2000, noNaN: true }) }),
  fc.record({ kind: fc.constant('reset' as const) }),
  fc.record({ kind: fc.constant('bad' as const) }),
);

function assertInvariant(gate: CreditGate): void {
  assert.ok(gate.credit >= 0 && gate.credit <= gate.windowMs, `credit ${gate.credit} outside 0..${gate.windowMs}`);
  assert.ok(gate.playedMs <= gate.sentMs, `played ${gate.playedMs} > sent ${gate.sentMs}`);
  assert.equal(gate.inFlightMs, gate.sentMs - gate.playedMs);
}

describe('CreditGate properties', () => {
  test('credit stays within 0..window under any sequence of grants, played reports, spends, resets and bad input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.array(gateOp, { maxLength: 100 }), (windowMs, ops) => {
        const gate = new CreditGate({ windowMs });
        for (const op of ops) {
          switch (op.kind) {
            case 'grant':
              gate.grant(op.ms);
              break;
            case 'played':
              gate.played(op.ms);
              break;
            case 'spend':
              if (op.ms <= gate.windowMs) gate.trySpend(op.ms);
              break;
            case 'reset':
              gate.reset();
              break;
            case 'bad':
              assert.throws(() => gate.grant(Number.NaN));
              break;
          }
          assertInvariant(gate);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('after any mix of lost and duplicated grants, a played report sets credit to window − in-flight', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ spend: fc.integer({ min: 0, max: 400 }), grants: fc.integer({ min: 0, max: 3 }) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 20_000 }),
        (steps, report) => {
          const gate = new CreditGate({ windowMs: 800 });
          for (const { spend, grants } of steps) {
            gate.trySpend(spend);
            // 0 grants = the grant was lost; 2 or 3 = duplicated.
            for (let i = 0; i < grants; i++) gate.grant(spend);
          }
          gate.played(report);
          const expectedPlayed = Math.min(report, gate.sentMs);
          assert.equal(gate.playedMs, expectedPlayed);
          assert.equal(gate.credit, Math.max(0, 800 - (gate.sentMs - expectedPlayed)));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('under any interleaving of async spenders, reports, grants and resets and aborts the invariant holds and every spend ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 5 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.constantFrom('played' as const, 'grant' as const, 'reset' as const, 'abort' as const), { maxLength: 12 }),
        async (s, spenders, consumerSteps) => {
          const gate = new CreditGate({ windowMs: 300 });
          let spent = 0;
          let aborted = 0;
          const consumerGone = new AbortController();
          const spendAll = async (sizes: number[]): Promise<void> => {
            for (const ms of sizes) {
              await s.schedule(Promise.resolve());
              try {
                await gate.spend(ms, { signal: consumerGone.signal });
                spent++;
              } catch (err) {
                if (!isVoicewireError(err, 'VW_ERR_ABORTED')) throw err;
                aborted++;
              }
              assertInvariant(gate);
            }
          };
          const consume = async (): Promise<void> => {
            for (const step of consumerSteps) {
              await s.schedule(Promise.resolve());
              if (step === 'played') gate.played(gate.sentMs);
              else if (step === 'grant') gate.grant(100);
              else if (step === 'abort') gate.abort('barge-in');
              else gate.reset();
              assertInvariant(gate);
            }
            // The consumer goes away: whoever waits now or later is released with an error, never parked.
            await s.schedule(Promise.resolve());
            consumerGone.abort();
          };
          const all = Promise.all([...spenders.map(spendAll), consume()]);
          await s.waitIdle();
          await all;
          assert.equal(spent + aborted, spenders.reduce((n, sizes) => n + sizes.length, 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});
