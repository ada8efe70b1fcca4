/** The public option and counter shapes of BrowserTransport (re-exported by adapter.ts). */
import type { TransportLogger } from '../socket-link.js';

/** Options of `new BrowserTransport(ws, options)`. */
export interface BrowserTransportOptions {
  readonly logger?: TransportLogger;
  /** Id announced in `ready` and used as callId/streamId. Default: a random UUID. */
  readonly sessionId?: string;
  /** Window (ms) when `hello` has none. Default 800; clamped to 200–2000 like any request. */
  readonly defaultWindowMs?: number;
  /** Announced in `ready` (the server's WebSocket ping interval). Default 10000. */
  readonly heartbeatMs?: number;
  /** A connection that sends no `hello` within this time is closed (4005). Default 10000. */
  readonly helloTimeoutMs?: number;
  /** Malformed messages tolerated per call; the next one closes with 4003. Default 50. */
  readonly maxBadInputs?: number;
  /** Parameters from the HTTP layer (e.g. the token's origin), added to `hello.parameters` (these win). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Epoch announced in `ready`. Default 0. */
  readonly initialEpoch?: number;
  readonly now?: () => number;
}

/** Counters for tests and metrics (plain numbers: bounded state). */
export interface BrowserTransportStats {
  badInputs: number;
  framesSent: number;
  bytesSent: number;
  sentenceEndsSent: number;
  clearsSent: number;
  /** Clears sent because audio of a newer epoch arrived without one. */
  implicitClears: number;
  micFrames: number;
  /** Mic frames missing by sequence number (the client dropped them under backpressure). */
  micFramesMissing: number;
  /** Played reports and acks of an older epoch, ignored. */
  staleReports: number;
  /** Audio or sentence ends of an older epoch, dropped. */
  staleSends: number;
  /** Sends dropped because the socket was not open or hello had not arrived. */
  sendsDropped: number;
  /** Trailing odd bytes of outbound audio dropped (PCM16 needs whole samples). */
  oddBytesDropped: number;
}
