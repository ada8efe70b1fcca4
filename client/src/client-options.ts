/** The public shapes of VoicewireClient: its options, the session a token request yields, and its events. */
import type { ConversationState, TranscriptRole, WireRate } from '../../src/transports/browser/codec.js';
import type { BackoffOptions } from './backoff.js';
import type { ClientStats } from './stats.js';

/** A token and where to use it (one per connection attempt). */
export interface SessionInfo {
  readonly token: string;
  /** ws:// or wss:// URL (or a path: resolved against the session URL by the default getSession, else the page); the token is added as `?token=`. */
  readonly wsUrl: string;
  readonly expiresAt?: number;
}

export interface VoicewireClientOptions {
  /** A fresh token for each (re)connection. Default: POST `sessionUrl`. */
  readonly getSession?: (signal: AbortSignal) => Promise<SessionInfo>;
  /** Where the default getSession POSTs. Default '/session', or `session` under `gatewayUrl`. */
  readonly sessionUrl?: string;
  /**
   * Absolute URL of a gateway on another origin (`https://voice.example.com`): tokens come from its
   * `/session` (the gateway must list the page's origin in ALLOWED_ORIGINS) and the socket goes to
   * the `wsUrl` it answers, resolved against it.
   */
  readonly gatewayUrl?: string;
  readonly playbackRate?: WireRate;
  readonly micRate?: WireRate;
  /** Player window asked for (ms); the server clamps it to 200–2000. Default 800. */
  readonly windowMs?: number;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Folder holding player-worklet.js and mic-worklet.js. Default: next to this module. */
  readonly workletBaseUrl?: string | URL;
  /** Capture the mic. Default true. */
  readonly mic?: boolean;
  readonly micFrameMs?: number;
  /** Mic audio held while the uplink is slow (ms); oldest dropped past it. Default 200. */
  readonly micQueueMs?: number;
  /** Mic frames wait while the socket holds more than this. Default 32 KiB. */
  readonly maxSocketBufferedBytes?: number;
  readonly reportEveryMs?: number;
  /** App-level ping interval (RTT, liveness: 3 unanswered → reconnect). Default 2000. */
  readonly pingEveryMs?: number;
  /** Deadline for token + connect + `ready`. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Reconnect policy; false: never. Default 250 ms → 10 s, 8 attempts. */
  readonly reconnect?: (BackoffOptions & { readonly maxAttempts?: number }) | false;
  /** How often `stats` is emitted. Default 250 ms. */
  readonly statsEveryMs?: number;
}

export interface VoicewireEvents {
  connected: { readonly sessionId: string; readonly playbackRate: number; readonly micRate: number; readonly windowMs: number; readonly epoch: number };
  closed: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  speaking: { readonly speaking: boolean };
  interrupted: { readonly epoch: number; readonly droppedMs: number; readonly silenceMs: number | null };
  stats: ClientStats;
  transcript: { readonly role: TranscriptRole; readonly text: string; readonly final: boolean };
  state: { readonly state: ConversationState };
  error: { readonly code: string; readonly message: string; readonly detail?: string };
  /** The agent handed the call on to `to` (E.164 or SIP URI); the server closes right after. */
  transfer: { readonly to: string };
}
