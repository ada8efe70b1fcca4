/**
 * Issue 12, codec level: ≥ 10 000 generated wire messages per transport's codec (mutated golden
 * messages, torn JSON, random JSON, text and bytes). The parser never throws, answers every
 * message with a typed message or a coded error (VW_ERR_*), and a healthy call's messages parse
 * the same before and after the fuzz went through (no state leaks from bad input).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ERRORS } from '../../../src/errors.js';
import { TRANSPORTS } from './transports/index.js';
import type { CodecOutcome, WireMessage } from './transport-under-test.js';

const RUNS = 10_000;

function snapshot(outcome: CodecOutcome): string {
  return JSON.stringify(outcome, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value));
}

describe('codec fuzz: every caller transport', () => {
  for (const tut of TRANSPORTS) {
    test(`${tut.name}: ${RUNS} fuzzed messages, no throw, coded errors, no effect on a healthy call`, () => {
      const { codec } = tut;
      const parseHealthy = () => codec.healthy.map((m: WireMessage) => snapshot(codec.parse(m)));
      const before = parseHealthy();
      assert.ok(JSON.parse(before[0]!).ok, 'the first healthy message parses');
      let rejected = 0;
      fc.assert(
        fc.property(codec.arbitrary, (message) => {
          const outcome = codec.parse(message);
          if (!outcome.ok) {
            rejected++;
            assert.ok(Object.hasOwn(ERRORS, outcome.code), `unknown error code ${outcome.code}`);
          }
        }),
        { numRuns: RUNS, seed: 12_12 },
      );
      assert.deepEqual(parseHealthy(), before);
      console.log(`# ${tut.name} codec fuzz: ${RUNS} messages, ${rejected} rejected with a code, ${RUNS - rejected} valid`);
      assert.ok(rejected > RUNS / 2, 'the fuzz mostly produces malformed messages');
    });
  }
});
