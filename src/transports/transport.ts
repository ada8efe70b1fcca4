/**
 * The contract between a caller-side wire protocol (Twilio Media Streams, the browser protocol) and
 * the session. An adapter turns wire messages into these typed events and these calls into wire
 * messages; it knows nothing about models. Positions are in ms of audio within an epoch.
 */
import type { AudioFormat } from '../audio/format.js';
import type { VoicewireError } from '../errors.js';

export type TransportKind = 'twilio' | 'browser' | 'telnyx' | 'signalwire' | 'exotel' | 'plivo' | 'vonage';

export interface CallStart {
  /** Stable id of the call for logs (Twilio CallSid, or a generated id for browsers). */
  readonly callId: string;
  /** Id of the stream/connection (Twilio streamSid). */
  readonly streamId: string;
  /** Parameters from the caller (Twilio customParameters; browser hello fields). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Format of the caller's audio in both directions. */
  readonly format: AudioFormat;
  /** Credit window the caller's player asks for, in ms (browser `hello`); undefined: server default. */
  readonly creditWindowMs?: number;
}

/** Events a transport reports to its session. */
export interface TransportEvents {
  start(info: CallStart): void;
  /** Caller audio, in `format`, one frame (usually 20 ms). The bytes are only valid during the call. */
  audio(bytes: Uint8Array, durationMs: number): void;
  /** Cumulative ms of `epoch`'s audio the caller has played (mark echo or played report). */
  played(epoch: number, playedMs: number): void;
  /**
   * An echo of a marker sent before the last `clear` (position `playedMs` of `epoch`): either
   * flushed by the clear or played just before it arrived. Never a confirmation by itself; the
   * session dates it on the caller's clock to tell which (session/truncation.ts).
   */
  echoAfterClear?(epoch: number, playedMs: number): void;
  /** Every sample of sentence `sentenceId` of `epoch` has played. */
  sentencePlayed(epoch: number, sentenceId: number): void;
  dtmf(digit: string): void;
  /** Malformed input; the connection lives on (fatal problems arrive as `closed`). */
  badInput(error: VoicewireError): void;
  /** The caller hung up or the connection ended; `error` says why when it was not a clean end. */
  closed(code: number, reason: string, error?: VoicewireError): void;
}

/** One chunk of audio for the caller, in the transport's format. */
export interface OutboundAudio {
  readonly epoch: number;
  readonly sentenceId: number;
  /**
   * Lent, like the chunk itself: valid only during `sendAudio` (a view of the session's audio ring,
   * reused once it returns). The adapters encode or copy it at once; one that kept it would copy.
   */
  readonly bytes: Uint8Array;
  readonly durationMs: number;
}

export interface CallerTransport {
  readonly kind: TransportKind;
  /** Sets the handlers; called once by the session before any event is delivered. */
  attach(events: TransportEvents): void;
  /** Sends audio; the adapter inserts its own played-position markers (e.g. a Twilio mark after the message that completes 200 ms since the last one). */
  sendAudio(chunk: OutboundAudio): void;
  /** Marks the end of a sentence so the caller acknowledges when it has played. */
  endSentence(epoch: number, sentenceId: number): void;
  /** Tells the caller to drop everything queued; `newEpoch` is the epoch of audio that follows. */
  clear(newEpoch: number): void;
  /** Bytes written to the socket but not yet handed to the kernel (ws `bufferedAmount`). */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}
