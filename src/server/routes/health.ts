/**
 * GET /healthz (alive), GET /readyz (accepting calls; 503 when full or draining), GET /metrics
 * (Prometheus text). /metrics is an admin route: on the admin listener when ADMIN_PORT is set, and
 * behind `Authorization: Bearer $METRICS_TOKEN` when that is set. The health checks are served on
 * both listeners (probes may use either).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayContext } from '../gateway.js';
import { header, sendError, sendJson, sendText } from '../http-util.js';

/** Whether `req` carries `Authorization: Bearer <token>` (compared in constant time). */
export function bearerMatches(req: IncomingMessage, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function healthRoutes(ctx: GatewayContext): void {
  for (const router of [ctx.router, ctx.adminRouter]) {
    router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
    router.add('GET', '/readyz', (_req, res) => {
      const ready = ctx.accepting();
      sendJson(res, ready ? 200 : 503, {
        status: ready ? 'ready' : ctx.state() === 'serving' ? 'full' : ctx.state(),
        calls: ctx.calls.size,
        pending: ctx.calls.pendingSize,
        maxCalls: ctx.config.maxCalls,
        backend: ctx.config.backend,
      });
    });
  }
  const token = ctx.config.fleet.metricsToken;
  ctx.adminRouter.add('GET', '/metrics', async (req, res) => {
    if (token !== undefined && !bearerMatches(req, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="voicewire metrics"');
      return sendError(res, 401, 'VW_ERR_METRICS_AUTH', 'missing or wrong metrics bearer token');
    }
    sendText(res, 200, await ctx.metrics.text(), ctx.metrics.registry.contentType);
  });
}
