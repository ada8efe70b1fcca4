/**
 * Connection and reconnect management of VoicewireClient: fresh token → WebSocket → `hello`, a
 * deadline for token + connect + `ready`, and after a drop a backoff before the next attempt (each
 * with a fresh token) until the budget is spent. It owns the client's state union; what the
 * server's messages mean is the client's business (ConnectionHooks).
 */
import { encodeControl, type ClientMessage } from '../../src/transports/browser/codec.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { SessionInfo, VoicewireClientOptions, VoicewireEvents } from './client-options.js';
import type { ClientState } from './stats.js';

/** Codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4002]);

/**
 * Where the default `getSession` POSTs, as an absolute URL: `sessionUrl` (resolved against the
 * page), else `session` under `gatewayUrl` (a gateway on another origin), else the page's `/session`.
 */
export function sessionEndpoint(options: Pick<VoicewireClientOptions, 'sessionUrl' | 'gatewayUrl'>, pageUrl: string): string {
  if (options.sessionUrl !== undefined) return new URL(options.sessionUrl, pageUrl).href;
  if (options.gatewayUrl !== undefined) {
    const base = new URL(options.gatewayUrl, pageUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    return new URL('session', base).href;
  }
  return new URL('/session', pageUrl).href;
}

/**
 * The default `getSession`: POST `url` and expect `{ token, wsUrl }` back. A relative `wsUrl` is
 * resolved against `url` (the gateway that minted the token), not the page, so a gateway on another
 * origin works.
 */
export async function postForSession(url: string, signal: AbortSignal): Promise<SessionInfo> {
  const res = await fetch(url, { method: 'POST', signal, headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as Partial<SessionInfo>;
  if (typeof body.token !== 'string' || typeof body.wsUrl !== 'string') throw new Error(`POST ${url}: no token or wsUrl`);
  return { token: body.token, wsUrl: new URL(body.wsUrl, url).href };
}

/** `session.wsUrl` resolved against `base` (default: the page), as ws:// or wss://, with the token as `?token=`. */
export function socketUrl(session: SessionInfo, base: string = location.href): URL {
  const url = new URL(session.wsUrl, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  url.searchParams.set('token', session.token);
  return url;
}

/** Attempts since the last `ready` against the policy's budget, and reconnects that succeeded. */
export class ReconnectBudget {
  private attempts = 0;
  private succeeded = 0;

  constructor(private readonly policy: VoicewireClientOptions['reconnect']) {}

  /** Reconnects that reached `ready`. */
  get reconnects(): number {
    return this.succeeded;
  }

  /** True when no attempt is left (`reconnect: false` allows none; default 8). */
  get exhausted(): boolean {
    const policy = this.policy;
    const maxAttempts = policy === false ? 0 : (policy?.maxAttempts ?? 8);
    return this.attempts >= maxAttempts;
  }

  /** Spends an attempt and returns how long to wait before it (backoff with jitter). */
  nextDelay(): number {
    const options: BackoffOptions = this.policy === false ? {} : (this.policy ?? {});
    const delay = backoffDelay(this.attempts, options);
    this.attempts++;
    return delay;
  }

  /** A connection reached `ready`: counts a reconnect when it followed failures, and refills the budget. */
  connected(): void {
    if (this.attempts > 0) this.succeeded++;
    this.attempts = 0;
  }
}

/** One-shot timers that can all be cancelled at once (bounded: a deadline and a backoff at most). */
export class TimerSet {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  clear(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  clearAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** What the connection asks of its client. */
export interface ConnectionHooks {
  /** The `hello` sent as soon as a socket opens. */
  hello(): ClientMessage;
  /** A control message of the current socket; `endDeadline` ends the connect deadline (on `ready`). */
  control(text: string, endDeadline: () => void): void;
  /** A binary frame of the current socket. */
  frame(bytes: Uint8Array): void;
  /** The current socket is gone (either side closed it): per-socket state must go. */
  socketClosed(): void;
  closed(event: VoicewireEvents['closed']): void;
  error(event: VoicewireEvents['error']): void;
  /** The call is over for good: release the audio. */
  finish(): void;
}

type ConnectionOptions = Pick<VoicewireClientOptions, 'getSession' | 'sessionUrl' | 'gatewayUrl' | 'connectTimeoutMs' | 'reconnect'>;

/** The client's connection: its state, its socket, its deadline and its reconnects. */
export class Connection {
  private stateValue: ClientState = 'idle';
  private ws: WebSocket | undefined;
  private connectAbort: AbortController | undefined;
  private readonly timers = new TimerSet();
  private readonly budget: ReconnectBudget;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.budget = new ReconnectBudget(options.reconnect);
  }

  get state(): ClientState {
    return this.stateValue;
  }

  /** The current socket (undefined between connections). */
  get socket(): WebSocket | undefined {
    return this.ws;
  }

  /** Reconnects that reached `ready`. */
  get reconnects(): number {
    return this.budget.reconnects;
  }

  /** Moves the state (the client's own moves: starting, ready, closed). */
  enter(state: ClientState): void {
    this.stateValue = state;
  }

  /** `ready` arrived and was accepted. */
  connected(): void {
    this.stateValue = 'ready';
    this.budget.connected();
  }

  /** Ends the call from our side for good: closes the socket and says so. */
  end(code: number, reason: string): void {
    this.stateValue = 'closed';
    this.ws?.close(code, reason);
    this.ws = undefined;
    this.hooks.closed({ code, reason, willReconnect: false });
    this.hooks.finish();
  }

  /** Stops a pending token request, deadline or backoff. */
  cancel(): void {
    this.connectAbort?.abort();
    this.timers.clearAll();
  }

  connect(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'connecting';
    const abort = new AbortController();
    this.connectAbort = abort;
    const deadline = this.timers.later(this.options.connectTimeoutMs ?? 10_000, () => {
      abort.abort();
      if (this.stateValue === 'connecting' || this.stateValue === 'awaiting-ready') this.drop(4000, 'connect timeout');
    });
    const getSession = this.options.getSession ?? ((signal: AbortSignal) => postForSession(sessionEndpoint(this.options, location.href), signal));
    getSession(abort.signal).then(
      (session) => {
        if (abort.signal.aborted || this.stateValue !== 'connecting') return;
        this.open(session, deadline);
      },
      (err: unknown) => {
        if (this.stateValue !== 'connecting') return;
        this.hooks.error({ code: 'VW_ERR_SESSION', message: err instanceof Error ? err.message : String(err) });
        this.timers.clear(deadline);
        this.scheduleReconnect(4000, 'session request failed');
      },
    );
  }

  /** Closes the current socket from our side (code 4000–4999) and reconnects. */
  drop(code: number, reason: string): void {
    const ws = this.ws;
    if (ws === undefined) {
      this.scheduleReconnect(code, reason);
      return;
    }
    this.ws = undefined;
    ws.close(code, reason);
    this.onSocketClosed(code, reason);
  }

  private open(session: SessionInfo, deadline: ReturnType<typeof setTimeout>): void {
    const ws = new WebSocket(socketUrl(session));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const endDeadline = (): void => this.timers.clear(deadline);
    ws.onopen = () => {
      this.stateValue = 'awaiting-ready';
      ws.send(encodeControl(this.hooks.hello()));
    };
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (ws !== this.ws) return;
      if (typeof event.data === 'string') this.hooks.control(event.data, endDeadline);
      else this.hooks.frame(new Uint8Array(event.data));
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      endDeadline();
      this.onSocketClosed(event.code, event.reason);
    };
  }

  private onSocketClosed(code: number, reason: string): void {
    this.ws = undefined;
    this.hooks.socketClosed();
    if (this.stateValue === 'closed') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stateValue = 'closed';
      this.hooks.closed({ code, reason, willReconnect: false });
      this.hooks.finish();
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  private scheduleReconnect(code: number, reason: string): void {
    if (this.budget.exhausted) {
      this.stateValue = 'closed';
      this.hooks.closed({ code, reason, willReconnect: false });
      this.hooks.finish();
      return;
    }
    this.hooks.closed({ code, reason, willReconnect: true });
    this.stateValue = 'backoff';
    this.timers.later(this.budget.nextDelay(), () => this.connect());
  }
}
