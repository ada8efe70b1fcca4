/**
 * A "dialect" of the JSON media-stream protocol that Twilio Media Streams introduced and other
 * carriers copied with differences (SignalWire: the same; Telnyx: snake_case, no stream id on
 * what we send, PCMU by default; Exotel: snake_case, PCM16 and 320-byte chunks; Plivo: its own
 * event names — `playAudio`, `checkpoint` → `playedStream`, `clearAudio` → `clearedAudio`), and
 * Vonage's, which shares the model (audio, a marker echoed once played, a flush) with binary
 * 20 ms frames for audio. The shared
 * adapter (adapter.ts) runs the flow control — marks every ≤ 200 ms with epochs in their names,
 * flush on barge-in, played positions from echoes — and asks the dialect only how messages look.
 *
 * A dialect's parser is pure and never throws: every message is a typed {@link StreamInbound} or
 * a coded error (house style 10).
 */
import type { AudioFormat } from '../../audio/format.js';
import type { VoicewireError } from '../../errors.js';
import type { TransportKind } from '../transport.js';

/** What any dialect's inbound message means to the adapter. */
export type StreamInbound =
  | { readonly event: 'connected' }
  | {
      readonly event: 'start';
      readonly streamId: string;
      /** The carrier's id of the call (CallSid, call_control_id, call_sid). */
      readonly callId: string;
      readonly parameters: Readonly<Record<string, string>>;
      /** The caller's audio format, both ways, as the start message announced it. */
      readonly format: AudioFormat;
      /** Extra fields worth a log line (tracks, from/to). */
      readonly detail: Readonly<Record<string, unknown>>;
    }
  | {
      readonly event: 'media';
      readonly streamId: string;
      /** Track name when the dialect has one (`inbound`); undefined when it has none (Exotel). */
      readonly track: string | undefined;
      /** Decoded audio: a view of the parser's output buffer, valid until the next parse. */
      readonly payload: Uint8Array;
    }
  | { readonly event: 'dtmf'; readonly streamId: string; readonly digit: string }
  | { readonly event: 'mark'; readonly streamId: string; readonly name: string }
  | { readonly event: 'stop'; readonly streamId: string }
  /** The carrier reports a problem on the stream (Telnyx `error`); logged and counted, the call goes on. */
  | { readonly event: 'error'; readonly streamId: string | undefined; readonly code: string; readonly detail: string }
  /**
   * A message that needs no action, only a debug line: an acknowledgement the adapter does not rely
   * on (e.g. a carrier confirming a flush), so a dialect can accept it without calling it bad input.
   */
  | {
      readonly event: 'notice';
      readonly what: string;
      /** When the notice names a stream (Plivo `clearedAudio`), it is checked like any message of it. */
      readonly streamId?: string;
    };

export type StreamParseResult =
  | { readonly ok: true; readonly message: StreamInbound }
  | { readonly ok: false; readonly error: VoicewireError };

export interface MediaStreamDialect {
  readonly kind: TransportKind;
  /** Name in log lines, metrics and VW_ERR_CLOSED ('telnyx'). */
  readonly label: string;
  /** Class name reported when `attach` is called twice. */
  readonly owner: string;
  /** Format assumed until `start` says otherwise (sizes the mark interval). */
  readonly defaultFormat: AudioFormat;
  /** Largest text message accepted (characters). */
  readonly maxMessageChars: number;
  /** Largest inbound media payload (decoded bytes): the size of the parser's output buffer. */
  readonly maxPayloadBytes: number;
  /** Track that carries the caller on a media message; other tracks are ignored. */
  readonly callerTrack: string;
  /** Outbound media sizes must be multiples of this many bytes (Exotel: 320); 1 = any size. */
  readonly outboundAlignBytes: number;
  /**
   * For carriers that play fixed frames (Vonage: 20 ms, so 640 bytes at 16 kHz): the frame size in
   * `format`. Every media message is then exactly one frame, and the frame replaces
   * `outboundAlignBytes` as the unit.
   */
  outboundFrameBytes?(format: AudioFormat): number;
  /**
   * False when only `start` names the stream (Vonage: one stream per socket, no ids on messages):
   * other messages are then not checked against it. Default true.
   */
  readonly messagesNameStream?: boolean;
  /**
   * `streamId`, once known (from `start`), lets a parser skip re-checking the shape of an id equal
   * to it (it was checked on `start`); the result must be the same with or without it.
   */
  parse(text: string, mediaOut: Uint8Array, streamId?: string): StreamParseResult;
  /**
   * `parse` of a text frame given as its UTF-8 bytes, undecoded, so the dialect can read its hot
   * messages without making a string (it decodes the rest itself). Absent: `parse` gets the text.
   */
  parseTextBytes?(bytes: Uint8Array, mediaOut: Uint8Array, streamId?: string): StreamParseResult;
  /**
   * The hot message alone, for a started stream: when the text frame `bytes` is a valid media
   * message of stream `streamId` on `callerTrack`, its payload decoded into `mediaOut` and its size
   * returned (> 0), exactly the payload `parse` would return for it; -1 for any other frame, which
   * then goes through `parse`. Optional: without it every frame is parsed.
   */
  readCallerAudio?(bytes: Uint8Array, mediaOut: Uint8Array, streamId: string): number;
  /**
   * The other frequent message, for a started stream: when the text frame `bytes` is a valid mark
   * echo of stream `streamId`, the echoed name, exactly the name `parse` would return for it;
   * undefined for any other frame, which then goes through `parse`. Optional, like `readCallerAudio`.
   */
  readMarkEcho?(bytes: Uint8Array, streamId: string): string | undefined;
  /** Binary frames (a carrier that sends audio as binary); absent: a binary frame is VW_ERR_BINARY_FRAME. */
  parseBinary?(bytes: Uint8Array): StreamParseResult;
  /**
   * A text message, or a binary frame for carriers that take audio as binary. `format` is the
   * stream's format (from `start`), for dialects whose media messages name it (Plivo).
   */
  serializeMedia(streamId: string, bytes: Uint8Array, start: number, end: number, format: AudioFormat): string | Uint8Array;
  serializeMark(streamId: string, name: string): string;
  serializeClear(streamId: string): string;
}
