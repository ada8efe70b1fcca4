/**
 * The end of a drain: calls have been closed with a close frame; their sockets get `graceMs` to
 * finish the close handshake, then the stragglers are cut. Sockets nobody closed yet (none, after a
 * drain) are closed with 1001 first, so a peer never sees a bare reset without a close frame.
 */
import { once, setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { WebSocketServer } from 'ws';

export async function closeSockets(wss: WebSocketServer, graceMs: number): Promise<void> {
  const open = [...wss.clients];
  for (const ws of open) if (ws.readyState === ws.OPEN) ws.close(1001, 'VW_ERR_SHUTDOWN');
  const stop = new AbortController();
  // One listener per open socket (plus the grace timer), all released at `abort()` below: a bound
  // we know, not a leak — without this Node warns once more than ten calls end together.
  setMaxListeners(open.length + 1, stop.signal);
  const closing = Promise.all(open.filter((ws) => ws.readyState !== ws.CLOSED).map((ws) => once(ws, 'close', { signal: stop.signal })));
  await Promise.race([closing.catch(() => undefined), delay(graceMs, undefined, { signal: stop.signal }).catch(() => undefined)]);
  stop.abort();
  for (const ws of open) if (ws.readyState !== ws.CLOSED) ws.terminate();
  wss.close();
}
