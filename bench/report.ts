/** Shared output for benchmarks: a printed table and a JSON file under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Row = Record<string, string | number>;

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

function cell(value: string | number): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

/** Prints `rows` as a Markdown table (so it can be pasted into the README). */
export function printTable(title: string, rows: Row[]): void {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  console.log(`\n### ${title}\n`);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`| ${columns.map(() => '---').join(' | ')} |`);
  for (const row of rows) console.log(`| ${columns.map((c) => cell(row[c] ?? '')).join(' | ')} |`);
}

/** Writes `data` to bench/results/<name>.json with the machine and time of the run. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const payload = { name, at: new Date().toISOString(), node: process.version, data };
  writeFileSync(path, JSON.stringify(payload, null, 2));
  return path;
}
