/**
 * Generators of malformed wire messages for JSON protocols, built from golden (valid) messages:
 * a field replaced by any JSON value, a field removed, an unknown field added, the text cut
 * short, random JSON, random text and random bytes. Mutating valid messages reaches the deep
 * branches of a parser that random text never gets past `JSON.parse` to see.
 */
import fc from 'fast-check';
import type { WireMessage } from './transport-under-test.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function pathsOf(value: Json, prefix: readonly (string | number)[] = []): Array<readonly (string | number)[]> {
  if (value === null || typeof value !== 'object') return [];
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  const out: Array<readonly (string | number)[]> = [];
  for (const key of keys) {
    const path = [...prefix, key];
    out.push(path);
    out.push(...pathsOf((value as Record<string | number, Json>)[key] as Json, path));
  }
  return out;
}

type Mutation = { readonly kind: 'set'; readonly value: Json } | { readonly kind: 'delete' } | { readonly kind: 'add'; readonly key: string; readonly value: Json };

function mutate(golden: Json, path: readonly (string | number)[], mutation: Mutation): Json {
  const copy = structuredClone(golden);
  let parent: Json = copy;
  // An earlier mutation may have removed or replaced part of the path: then this one does nothing.
  for (const key of path.slice(0, -1)) {
    if (parent === null || typeof parent !== 'object') return copy;
    parent = (parent as Record<string | number, Json>)[key] as Json;
  }
  const last = path.at(-1);
  if (parent === null || typeof parent !== 'object' || last === undefined) return copy;
  const target = parent as Record<string | number, Json>;
  if (mutation.kind === 'set') target[last] = mutation.value;
  else if (mutation.kind === 'delete') delete target[last];
  else {
    const inner = target[last];
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) inner[mutation.key] = mutation.value;
    else target[last] = { [mutation.key]: mutation.value };
  }
  return copy;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
  fc.constant({ kind: 'delete' as const }),
  fc.record({ kind: fc.constant('add' as const), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'event')), value: fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json> }),
);

/** One golden message with 1–3 mutations at random paths, as text. */
function mutatedGolden(goldens: readonly Json[]): fc.Arbitrary<string> {
  return fc.constantFrom(...goldens).chain((golden) => {
    const paths = pathsOf(golden);
    if (paths.length === 0) return fc.constant(JSON.stringify(golden));
    return fc
      .array(fc.tuple(fc.constantFrom(...paths), mutationArb), { minLength: 1, maxLength: 3 })
      .map((steps) => JSON.stringify(steps.reduce<Json>((msg, [path, m]) => mutate(msg, path, m), golden)));
  });
}

/** A golden message's text cut at a random point (a frame torn by a buggy peer). */
function truncatedGolden(goldens: readonly Json[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...goldens), fc.nat()).map(([golden, cut]) => {
    const text = JSON.stringify(golden);
    return text.slice(0, cut % Math.max(1, text.length));
  });
}

/**
 * Wire messages for fuzzing a JSON text protocol whose valid messages include `goldens`.
 * Mostly mutations of the goldens (weight 6), then torn goldens, random JSON, random text and
 * binary frames.
 */
export function jsonWireFuzz(goldens: readonly object[]): fc.Arbitrary<WireMessage> {
  const list = goldens as readonly Json[];
  return fc.oneof(
    { weight: 6, arbitrary: mutatedGolden(list).map((text) => ({ text })) },
    { weight: 1, arbitrary: truncatedGolden(list).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((text) => ({ text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((binary) => ({ binary })) },
  );
}

/** A message as text, for goldens kept as objects. */
export function textOf(message: object): WireMessage {
  return { text: JSON.stringify(message) };
}
