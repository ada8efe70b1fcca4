/** GET /healthz (alive), GET /readyz (accepting calls), GET /metrics (Prometheus text). */
import type { GatewayContext } from '../gateway.js';
import { sendJson, sendText } from '../http-util.js';

export function healthRoutes(ctx: GatewayContext): void {
  ctx.router.add('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  ctx.router.add('GET', '/readyz', (_req, res) => {
    const ready = ctx.accepting();
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not-ready',
      calls: ctx.calls.size,
      maxCalls: ctx.config.maxCalls,
      backend: ctx.config.backend,
    });
  });
  ctx.router.add('GET', '/metrics', async (_req, res) => {
    sendText(res, 200, await ctx.metrics.text(), ctx.metrics.registry.contentType);
  });
}
