/** Reads the `wire` part of golden fixtures (test/fixtures/<carrier>/<name>.json, each naming its source URL). */
import { readFileSync } from 'node:fs';

export function goldenWire(carrier: string, name: string): object {
  const url = new URL(`../../fixtures/${carrier}/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { wire: object }).wire;
}
