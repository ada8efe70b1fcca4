/** Writes a TOOLS_FILE for a test gateway (a fresh temporary directory each time). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `tools` as JSON and returns the file's path. */
export function toolsFile(tools: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'voicewire-tools-')), 'tools.json');
  writeFileSync(path, JSON.stringify(tools));
  return path;
}
