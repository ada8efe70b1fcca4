/**
 * The address a request came from, for per-client limits. `X-Forwarded-For` is believed only when
 * the peer is a trusted proxy, and only as far as the chain of trusted proxies goes: the address
 * is the rightmost entry not itself a trusted proxy (entries left of it could be forged by the client).
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The client address of `req`: the socket peer, or what trusted proxies in front of us saw. */
export function clientAddress(req: IncomingMessage, trusted: (address: string) => boolean): string {
  const peer = normalise(req.socket.remoteAddress ?? '');
  if (!trusted(peer)) return peer;
  const raw = req.headers['x-forwarded-for'];
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  if (header === undefined) return peer;
  const hops = header.split(',').map((h) => normalise(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // A malformed entry ends the chain: what is left of it cannot be trusted either.
    if (isIP(hop) === 0) return i === hops.length - 1 ? peer : hops[i + 1]!;
    if (!trusted(hop)) return hop;
  }
  return hops[0] ?? peer;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client has one bucket whichever way it connected. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
