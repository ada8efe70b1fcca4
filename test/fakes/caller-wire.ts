/**
 * The fake caller's side of a media-stream dialect: how a carrier builds the messages it sends
 * (start, media, mark echoes, dtmf, stop) and how strictly it reads ours. The fake caller
 * (twilio-caller.ts) plays and paces; a `CallerWire` makes it Twilio, SignalWire, Telnyx or
 * Exotel. Each is written from the carrier's docs and shares no code with the gateway's codecs.
 */
import type { ServerMessage } from './twilio-wire.js';
import type { ClearMarkPolicy } from './twilio-player.js';

export type { ServerMessage } from './twilio-wire.js';

/** The ids of one fake call, in the carrier's own shapes. */
export interface CallIds {
  readonly streamId: string;
  readonly callId: string;
  readonly accountId: string;
}

export interface CallerWire {
  readonly name: string;
  /** Audio both ways: μ-law or PCM16 little-endian, at 8 kHz (the fake speaks 8 kHz). */
  readonly encoding: 'pcmu' | 'pcm16';
  /** What a `clear` does to pending marks (documented, or the assumption under test). */
  readonly clearMarks: ClearMarkPolicy;
  /** Outbound media sizes must be whole multiples of this (Exotel: 320 bytes); 1 = any. */
  readonly mediaUnitBytes: number;
  newIds(): CallIds;
  /** The message before `start`, if the carrier sends one. */
  connected(): object | undefined;
  start(ids: CallIds, sequence: string, customParameters: Readonly<Record<string, string>>, overrides: Readonly<Record<string, unknown>>): object;
  media(ids: CallIds, sequence: string, chunk: string, timestampMs: string, payloadBase64: string): object;
  markEcho(ids: CallIds, sequence: string, name: string): object;
  dtmf(ids: CallIds, sequence: string, digit: string): object;
  stop(ids: CallIds, sequence: string): object;
  /** Checks one server message as the carrier would; a violation is reported, not acted on. */
  read(text: string, ids: CallIds): ServerMessage;
}
