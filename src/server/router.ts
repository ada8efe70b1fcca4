/**
 * A tiny router with Fastify-style encapsulation: each feature registers its own HTTP routes and
 * WebSocket upgrade paths in its own file; the gateway owns neither their logic nor their state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => void | Promise<void>;

/**
 * What a route is for. `call` routes start calls (carrier webhooks, POST /session): a draining
 * gateway answers them 503 and they count against the per-address webhook limit. `service` routes
 * (health, metrics, static files) are always served. Default: `call` for every method but GET and
 * HEAD; a carrier whose webhook is a GET registers it with `{ kind: 'call' }`.
 */
export type RouteKind = 'call' | 'service';

export interface RouteOptions {
  readonly kind?: RouteKind;
}

/** The default kind of a route with this method. */
export function defaultRouteKind(method: string): RouteKind {
  return method === 'GET' || method === 'HEAD' ? 'service' : 'call';
}

export class Router {
  private readonly routes = new Map<string, HttpHandler>();
  private readonly kinds = new Map<string, RouteKind>();
  private readonly prefixRoutes: Array<{ method: string; prefix: string; handler: HttpHandler }> = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();

  add(method: string, path: string, handler: HttpHandler, options: RouteOptions = {}): void {
    const key = `${method} ${path}`;
    if (this.routes.has(key)) throw new Error(`route ${key} registered twice`);
    this.routes.set(key, handler);
    this.kinds.set(key, options.kind ?? defaultRouteKind(method));
  }

  /** The kind of the exact route `method path`; unknown routes get their method's default. */
  kindOf(method: string, path: string): RouteKind {
    return this.kinds.get(`${method} ${path}`) ?? defaultRouteKind(method);
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
