/**
 * ws unmasks what a client sends with a byte-at-a-time loop (ws/lib/buffer-util.js) unless the
 * optional native `bufferutil` is installed, which this repo does not ship (it would speed up the
 * server under test too). The lean model receives every call's `input_audio_buffer.append`s masked
 * by the server under test, ≈ 11 MB/s at 1 000 calls, and that loop was the largest JavaScript cost
 * of the generator's reads. Importing this module replaces ws's `unmask` in THIS process only with
 * the same XOR unrolled by four (≈ 2.5× faster; test/bench/load/fast-unmask.test.ts checks it gives
 * the same bytes). It must run before ws's receiver loads, which takes `unmask` once; a static
 * import cannot ensure that (Node loads CommonJS dependencies while linking, before any module body
 * runs), so the bench preloads it in the generator child with `--import` (child-link.ts), and it
 * throws if ws was loaded already.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** XOR `buffer` in place with the 4-byte `mask`, repeated (RFC 6455 §5.3). */
export function unmaskUnrolled(buffer: Uint8Array, mask: Uint8Array): void {
  const n = buffer.length;
  const m0 = mask[0]!;
  const m1 = mask[1]!;
  const m2 = mask[2]!;
  const m3 = mask[3]!;
  let i = 0;
  for (const end = n - 3; i < end; i += 4) {
    buffer[i] = buffer[i]! ^ m0;
    buffer[i + 1] = buffer[i + 1]! ^ m1;
    buffer[i + 2] = buffer[i + 2]! ^ m2;
    buffer[i + 3] = buffer[i + 3]! ^ m3;
  }
  for (; i < n; i++) buffer[i] = buffer[i]! ^ mask[i & 3]!;
}

const require = createRequire(import.meta.url);
const wsLib = join(dirname(require.resolve('ws')), 'lib');
if (require.cache[join(wsLib, 'receiver.js')] !== undefined) throw new Error('fast-unmask: import it before anything that imports ws');
const bufferUtil = require(join(wsLib, 'buffer-util.js')) as { unmask: (buffer: Uint8Array, mask: Uint8Array) => void };
bufferUtil.unmask = unmaskUnrolled;
