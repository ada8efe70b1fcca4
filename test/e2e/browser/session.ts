/**
 * The browser's way in, from Node: `POST /session` for a single-use token, then the `/browser`
 * WebSocket with it (through FakeBrowserClient), or a bare upgrade to read the HTTP status of a
 * refusal. Every wait has a deadline.
 */
import { WebSocket } from 'ws';
import { FakeBrowserClient, type FakeBrowserClientOptions } from '../../fakes/browser-client.js';

export interface SessionAnswer {
  readonly status: number;
  readonly body: {
    readonly token?: string;
    readonly expiresAt?: number;
    readonly wsUrl?: string;
    readonly error?: { readonly code: string; readonly message: string };
  };
}

/** `POST /session` as a page would (with `origin` as its Origin header, if given). */
export async function postSession(baseUrl: string, origin?: string): Promise<SessionAnswer> {
  const res = await fetch(`${baseUrl}/session`, {
    method: 'POST',
    headers: { accept: 'application/json', ...(origin === undefined ? {} : { origin }) },
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: (await res.json()) as SessionAnswer['body'] };
}

/** A fresh token and the absolute ws:// URL to use it on. */
export async function mintBrowserUrl(baseUrl: string): Promise<string> {
  const { status, body } = await postSession(baseUrl);
  if (status !== 200 || typeof body.token !== 'string' || typeof body.wsUrl !== 'string') {
    throw new Error(`POST /session: HTTP ${status} ${JSON.stringify(body)}`);
  }
  const url = new URL(body.wsUrl, baseUrl.replace(/^http/, 'ws'));
  url.searchParams.set('token', body.token);
  return url.href;
}

/** POST /session, then a protocol-faithful fake browser on `/browser?token=…`. */
export async function connectFakeBrowser(baseUrl: string, options: FakeBrowserClientOptions = {}): Promise<FakeBrowserClient> {
  return FakeBrowserClient.connect(await mintBrowserUrl(baseUrl), options);
}

/**
 * Opens a WebSocket to `url` and reports how the upgrade ended: the HTTP status of a refusal, or
 * 101 when it was accepted (the socket is then closed at once).
 */
export function upgradeStatus(url: string, headers: Readonly<Record<string, string>> = {}, timeoutMs = 5_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { ...headers } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`upgrade to ${url}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(101);
      ws.close(1000);
    });
    // `on`, not `once`: terminating a socket that is still connecting emits a second error.
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
