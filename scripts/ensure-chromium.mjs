#!/usr/bin/env node
// The real-browser tests drive Debian's chromium (Playwright cannot download its own browsers
// here). Installs it when missing, through ensure-debian.mjs.
import { ensureDebian, PROGRAMS } from './ensure-debian.mjs';

export const CHROMIUM = PROGRAMS.chromium.path;

export function ensureChromium() {
  return ensureDebian('chromium');
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureChromium() ? 0 : 1);
