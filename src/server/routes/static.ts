/**
 * The demo page (`GET /`) and the browser SDK bundle (`GET /client/*`), served from client/dist
 * (built by `npm run build`, which `npm start` runs). Only files directly in that folder are served.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { sendError } from '../http-util.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  // Module scripts and audioWorklet.addModule require a JavaScript MIME type.
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** client/dist of the package this file belongs to (works from src/ under tsx and from dist/src/). */
export function clientDistDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'client', 'dist');
    dir = dirname(dir);
  }
  return resolve('client', 'dist');
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function staticRoutes(ctx: GatewayContext): void {
  const root = clientDistDir();
  const serve = async (name: string, res: ServerResponse): Promise<void> => {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = CONTENT_TYPES[ext];
    if (!SAFE_NAME.test(name) || name.includes('..') || type === undefined) {
      return sendError(res, 404, 'VW_ERR_NOT_FOUND', `no file ${name}`);
    }
    let body: Buffer;
    try {
      body = await readFile(join(root, name));
    } catch {
      return sendError(res, 404, 'VW_ERR_NOT_FOUND', `no file ${name}: run \`npm run build\``);
    }
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  };
  ctx.router.add('GET', '/', (_req, res) => serve('index.html', res));
  ctx.router.addPrefix('GET', '/client/', (_req, res, url) => serve(url.pathname.slice('/client/'.length), res));
}
