/** Writes a TOOLS_FILE for a test gateway (a fresh temporary directory each time, removed at exit). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs: string[] = [];
process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `tools` as JSON and returns the file's path. */
export function toolsFile(tools: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'voicewire-tools-'));
  dirs.push(dir);
  const path = join(dir, 'tools.json');
  writeFileSync(path, JSON.stringify(tools));
  return path;
}
