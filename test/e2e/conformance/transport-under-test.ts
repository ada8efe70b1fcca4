/**
 * The conformance suite's contract: one `TransportUnderTest` per caller transport (a carrier's
 * media stream, or the browser protocol), listed in transports/index.ts. The suite
 * (scenarios.ts) runs the same end-to-end scenarios on each through the real gateway, and the
 * codec fuzz (codec-fuzz.test.ts) runs ≥ 10 000 generated wire messages through each codec.
 *
 * Adding a transport: write its codec, its protocol-faithful fake caller, a file under
 * transports/ that fills this interface, and one line in transports/index.ts.
 */
import type fc from 'fast-check';
import type { RunningGateway } from '../harness.js';

/** One WebSocket message as a caller would put it on the wire. */
export type WireMessage = { readonly text: string } | { readonly binary: Uint8Array };

/**
 * What the suite needs from a fake caller, whatever its protocol. Times are in ms of the
 * caller's own clock (`now()`); audio amounts are in ms of audio.
 */
export interface ConformanceCaller {
  /** ms of the gateway's audio the caller has played so far (every epoch). */
  readonly playedMs: number;
  /** Largest amount of audio the caller's player held at any moment (ms). */
  readonly maxBufferedMs: number;
  /** Flushes (`clear` or the protocol's equivalent) received so far. */
  readonly clears: number;
  readonly isOpen: boolean;
  /** The WebSocket close code once closed. */
  readonly closeCode: number | undefined;
  /** Times the player ran dry while the model still had audio on its way. */
  underrunsWhileSpeaking(): number;
  /** Measurements that tell a flow fault from a starved test process, for an underrun's assertion message. */
  underrunReport?(): string;
  /** Protocol violations the fake found in what the gateway sent (must stay empty). */
  violations(): readonly string[];
  now(): number;
  /** ms of audio the caller played after time `t` of its clock. */
  heardSince(t: number): number;
  /**
   * Speaks `samples` (PCM16 at 8 kHz; the fake converts to its wire format) at real-time pace,
   * followed by enough silence for a VAD to end the turn. Resolves when all of it was sent.
   */
  sendSpeech(samples8k: Int16Array): Promise<void>;
  /** Resolves once `check()` holds (re-checked on every message and clock tick); rejects at the deadline or close. */
  waitUntil(check: () => boolean, timeoutMs: number, what?: string): Promise<void>;
  /** Puts one raw message on the wire (garbage, fuzz), outside the protocol. */
  sendWire(message: WireMessage): void;
  /** Hangs up the way the protocol does (e.g. `stop`, then close). */
  stop(): Promise<void>;
  /** Drops the socket at once. */
  terminate(): void;
}

/** What the codec-level fuzz needs: the gateway's pure parser for inbound messages of this transport. */
export interface CodecUnderTest {
  /**
   * Parses one inbound message as the gateway does (the adapter's first step). Must not throw;
   * the result is compared structurally (a `Uint8Array` compares by content), so it must not
   * share mutable state with a later parse.
   */
  parse(message: WireMessage): CodecOutcome;
  /** Well-formed messages of a healthy call, in order (start, media, a mark echo, …). */
  readonly healthy: readonly WireMessage[];
  /** Generated wire messages: mutations of valid ones, random JSON, random text and bytes. */
  readonly arbitrary: fc.Arbitrary<WireMessage>;
}

export type CodecOutcome =
  | { readonly ok: true; readonly message: unknown }
  | { readonly ok: false; readonly code: string };

export interface ConnectOptions {
  /** Extra headers on the upgrade request. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TransportUnderTest {
  /** Short name used in test titles and logs ('twilio', 'telnyx', …). */
  readonly name: string;
  /** Credit window the caller gets (ms): the bound on what its player may hold (+ one frame). */
  readonly windowMs: number;
  /** One frame of this transport's outbound audio (ms): the slack allowed over the window. */
  readonly frameMs: number;
  /** Gateway environment this transport needs (e.g. ALLOWED_ORIGINS); merged over the suite's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Opens a call on `gateway` (webhook first where the carrier has one) and starts its stream. */
  connect(gateway: RunningGateway, options?: ConnectOptions): Promise<ConformanceCaller>;
  /** Malformed messages of every kind the protocol can get wrong; each must be a coded bad input. */
  readonly garbage: readonly WireMessage[];
  readonly codec: CodecUnderTest;
  /** The output format every call's model session must ask for (`{ type: 'audio/pcmu' }` when μ-law passes through). */
  readonly modelOutputFormat?: unknown;
  /** Other settings of this transport that one call must pass a scenario with as well. */
  readonly variants?: readonly TransportVariant[];
}

/**
 * Another setting of a transport (a wider format, another documented-or-assumed flush behaviour of
 * the carrier) and the single-call scenario that proves it: `answer` (a 20 s answer within the
 * window + one frame, the window used, no underrun) or `barge-in` (the suite's barge-in bounds).
 */
export interface TransportVariant {
  /** What differs, for test titles and logs ('l16-16000', 'flushed checkpoints: ack-after-cleared'). */
  readonly label: string;
  readonly scenario: 'answer' | 'barge-in';
  connect(gateway: RunningGateway): Promise<ConformanceCaller>;
  /** As {@link TransportUnderTest.modelOutputFormat}, for this setting. */
  readonly modelOutputFormat?: unknown;
}
