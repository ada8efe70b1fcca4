#!/usr/bin/env node
// Bundles the browser SDK, its two AudioWorklets and the demo page with esbuild into client/dist/:
//   voicewire.js        the SDK (ESM), from client/src/index.ts
//   player-worklet.js   playback worklet (loaded by the SDK from the same folder)
//   mic-worklet.js      capture worklet
//   demo.js             the demo page's script (bundles the SDK)
//   index.html          a copy of client/index.html
// `node scripts/build-client.mjs --watch` rebuilds on change.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'client', 'dist');
const watch = process.argv.includes('--watch');

const entries = {
  voicewire: 'client/src/index.ts',
  'player-worklet': 'client/src/player-worklet.ts',
  'mic-worklet': 'client/src/mic-worklet.ts',
  demo: 'client/demo.ts',
};

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  bundle: true,
  // Each entry stands alone: a worklet cannot import a shared chunk by relative URL everywhere.
  splitting: false,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  sourcemap: true,
  minify: !watch,
  legalComments: 'none',
  logLevel: 'warning',
};

mkdirSync(outdir, { recursive: true });
copyFileSync(join(root, 'client', 'index.html'), join(outdir, 'index.html'));
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('build-client: watching client/ …');
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith('.js'));
  for (const [name, info] of outputs) console.log(`build-client: ${name} ${(info.bytes / 1024).toFixed(1)} KiB`);
}
