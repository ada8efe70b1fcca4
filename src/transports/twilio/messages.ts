/**
 * Typed Twilio Media Streams messages (bidirectional `<Connect><Stream>`), as documented in
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages and /work/shared/protocols.md §3.
 *
 * On the wire `sequenceNumber`, `media.chunk` and `media.timestamp` are strings of digits; here
 * they are numbers (the codec checks the digits and converts), so code compares them as numbers.
 * Nested objects are flattened: `start.callSid` is `callSid` on {@link TwilioStart}.
 */

/** The only audio format a bidirectional Twilio stream carries: μ-law, 8 kHz, mono. */
export const TWILIO_MEDIA_ENCODING = 'audio/x-mulaw';
export const TWILIO_SAMPLE_RATE = 8000;
export const TWILIO_CHANNELS = 1;

/** First message on every stream; carries no `sequenceNumber` or `streamSid`. */
export interface TwilioConnected {
  readonly event: 'connected';
  readonly protocol: string;
  readonly version: string;
}

export interface TwilioMediaFormat {
  readonly encoding: string;
  readonly sampleRate: number;
  readonly channels: number;
}

export interface TwilioStart {
  readonly event: 'start';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly callSid: string;
  readonly tracks: readonly string[];
  /** `<Parameter>` pairs from the TwiML, always strings. */
  readonly customParameters: Readonly<Record<string, string>>;
  readonly mediaFormat: TwilioMediaFormat;
}

export interface TwilioMedia {
  readonly event: 'media';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  /** `inbound` on a bidirectional stream. */
  readonly track: string;
  /** Media chunk number, from 1. */
  readonly chunk: number;
  /** ms since the stream started. */
  readonly timestamp: number;
  /**
   * Decoded μ-law bytes: a view into the buffer the caller passed to the parser, overwritten by
   * the next parse. Copy it to keep it.
   */
  readonly payload: Uint8Array;
}

export interface TwilioDtmf {
  readonly event: 'dtmf';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  /** `inbound_track` (sic: not `inbound` as on `media`). */
  readonly track: string;
  readonly digit: string;
}

/** Echo of a mark the server sent: the audio before it finished playing, or a `clear` flushed it. */
export interface TwilioMarkEcho {
  readonly event: 'mark';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly name: string;
}

export interface TwilioStop {
  readonly event: 'stop';
  readonly sequenceNumber: number;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly callSid: string;
}

/** Every message Twilio sends to the server. */
export type TwilioInbound = TwilioConnected | TwilioStart | TwilioMedia | TwilioDtmf | TwilioMarkEcho | TwilioStop;

export type TwilioInboundEvent = TwilioInbound['event'];

/** The event names Twilio sends, for exhaustiveness checks and generators. */
export const TWILIO_INBOUND_EVENTS = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop'] as const satisfies readonly TwilioInboundEvent[];

/** DTMF digits a phone keypad can send (A–D exist on some keypads). */
export const DTMF_DIGIT = /^[0-9*#A-D]$/;
