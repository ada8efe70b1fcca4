/**
 * Typed Plivo Audio Streams messages (bidirectional `<Stream>`), as documented in
 * https://www.plivo.com/docs/voice/audio-streaming/audio-streaming (Stream Event Protocol),
 * https://www.plivo.com/docs/voice/xml/the-stream-element/checkpoint-event and Plivo's own stream
 * SDK (plivo/plivo-stream-sdk-node `src/types.ts`). /work/shared/protocols.md §7 has a summary.
 *
 * `sequenceNumber` is optional: Plivo's own examples of `playedStream` leave it out.
 * Counters (`sequenceNumber`, `media.chunk`, `media.timestamp`) are numbers here; on the wire the
 * docs show numbers for the first two and a string for the timestamp, and the codec accepts either
 * form for each (Plivo's pages disagree with each other).
 */

/** `contentType` values a bidirectional stream accepts in `playAudio` (and announces in `start`). */
export const PLIVO_MULAW = 'audio/x-mulaw';
export const PLIVO_L16 = 'audio/x-l16';
export type PlivoEncoding = typeof PLIVO_MULAW | typeof PLIVO_L16;

export interface PlivoMediaFormat {
  readonly encoding: PlivoEncoding;
  /** μ-law: 8000 only; L16: 8000 or 16000. */
  readonly sampleRate: 8000 | 16000;
}

/** First message on every stream: call and stream ids and the audio format of both directions. */
export interface PlivoStart {
  readonly event: 'start';
  readonly sequenceNumber: number | undefined;
  readonly streamId: string;
  readonly callId: string;
  readonly accountId: string;
  readonly tracks: readonly string[];
  readonly mediaFormat: PlivoMediaFormat;
  /** The `<Stream extraHeaders>` string (`k=v;k=v`), or '' when there is none. */
  readonly extraHeaders: string;
}

export interface PlivoMedia {
  readonly event: 'media';
  readonly sequenceNumber: number | undefined;
  readonly streamId: string;
  /** `inbound` on a bidirectional stream. */
  readonly track: string;
  readonly chunk: number;
  /** Unix time in ms (a string of digits on the wire). */
  readonly timestamp: number;
  /** Decoded audio bytes: a view into the caller's buffer, overwritten by the next parse. */
  readonly payload: Uint8Array;
}

export interface PlivoDtmf {
  readonly event: 'dtmf';
  readonly sequenceNumber: number | undefined;
  readonly streamId: string;
  readonly digit: string;
}

/**
 * A checkpoint's audio has played (`playedStream`; Plivo's support pages call it `played`). Plivo
 * emits it only when the audio before the checkpoint actually played.
 */
export interface PlivoPlayedStream {
  readonly event: 'playedStream';
  readonly sequenceNumber: number | undefined;
  readonly streamId: string;
  readonly name: string;
}

/** Acknowledges a `clearAudio`: the buffered audio was dropped. */
export interface PlivoClearedAudio {
  readonly event: 'clearedAudio';
  readonly sequenceNumber: number | undefined;
  readonly streamId: string;
}

/**
 * The stream ended. Not in Plivo's protocol pages (the socket simply closes) but in its Java stream
 * SDK (`StopEvent`, with an optional `reason`), so it is understood when it comes.
 */
export interface PlivoStop {
  readonly event: 'stop';
  readonly streamId: string;
  readonly reason: string | undefined;
}

/** Every message Plivo sends to the server. */
export type PlivoInbound = PlivoStart | PlivoMedia | PlivoDtmf | PlivoPlayedStream | PlivoClearedAudio | PlivoStop;

/** Event names on the wire (`played` is the support pages' name for `playedStream`). */
export const PLIVO_INBOUND_EVENTS = ['start', 'media', 'dtmf', 'playedStream', 'played', 'clearedAudio', 'stop'] as const;
