/**
 * A tiny router with Fastify-style encapsulation: each feature registers its own HTTP routes and
 * WebSocket upgrade paths in its own file; the gateway owns neither their logic nor their state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void | Promise<void>;

export class Router {
  private readonly routes = new Map<string, HttpHandler>();
  private readonly prefixRoutes: Array<{ method: string; prefix: string; handler: HttpHandler }> = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();

  add(method: string, path: string, handler: HttpHandler): void {
    const key = `${method} ${path}`;
    if (this.routes.has(key)) throw new Error(`route ${key} registered twice`);
    this.routes.set(key, handler);
  }

  /** Serves every path under `prefix` (static files). */
  addPrefix(method: string, prefix: string, handler: HttpHandler): void {
    this.prefixRoutes.push({ method, prefix, handler });
  }

  upgrade(path: string, handler: UpgradeHandler): void {
    if (this.upgrades.has(path)) throw new Error(`upgrade path ${path} registered twice`);
    this.upgrades.set(path, handler);
  }

  findHttp(method: string, path: string): HttpHandler | undefined {
    const exact = this.routes.get(`${method} ${path}`);
    if (exact) return exact;
    return this.prefixRoutes.find((r) => r.method === method && path.startsWith(r.prefix))?.handler;
  }

  /** Methods registered for `path` (for 405 answers). */
  methodsFor(path: string): string[] {
    const methods: string[] = [];
    for (const key of this.routes.keys()) {
      const [method, routePath] = key.split(' ');
      if (routePath === path && method) methods.push(method);
    }
    return methods;
  }

  findUpgrade(path: string): UpgradeHandler | undefined {
    return this.upgrades.get(path);
  }
}
