/**
 * Typed Vonage Voice API WebSocket messages (NCCO `connect` to a `websocket` endpoint), as
 * documented in https://developer.vonage.com/en/voice/voice-api/concepts/websockets and Vonage's
 * AsyncAPI description of the same surface; /work/shared/protocols.md §7 has a summary.
 *
 * Audio travels as binary messages of 16-bit signed little-endian linear PCM, mono, at the rate of
 * the endpoint's `content-type` (`audio/l16;rate=16000`: 640 bytes per 20 ms; 8000: 320 bytes), in
 * both directions. Everything else is JSON text: Vonage sends `event`s, the server sends `action`s.
 */

export type VonageRate = 8000 | 16000 | 24000;

/** First message: the audio format and the `headers` of the NCCO endpoint, flattened in. */
export interface VonageConnected {
  readonly event: 'websocket:connected';
  /** The `content-type` as sent (e.g. `audio/l16;rate=16000`). */
  readonly contentType: string;
  readonly rate: VonageRate;
  /** Every other string-valued top-level field (the NCCO endpoint's `headers`), bounded. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The audio sent before a `notify` action has played; `payload` is echoed as sent. */
export interface VonageNotify {
  readonly event: 'websocket:notify';
  readonly payload: Readonly<Record<string, unknown>>;
}

/** A `clear` action emptied the playback buffer. */
export interface VonageCleared {
  readonly event: 'websocket:cleared';
}

/** A keypress (`digit` and `duration` at the top level). */
export interface VonageDtmf {
  readonly event: 'websocket:dtmf';
  readonly digit: string;
  readonly durationMs: number | undefined;
}

/** Every text message Vonage sends to the server. */
export type VonageEvent = VonageConnected | VonageNotify | VonageCleared | VonageDtmf;

export const VONAGE_EVENTS = ['websocket:connected', 'websocket:notify', 'websocket:cleared', 'websocket:dtmf'] as const;
