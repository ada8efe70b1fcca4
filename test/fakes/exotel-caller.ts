/**
 * A fake Exotel Voicebot caller: the fake media-stream caller (twilio-caller.ts) speaking Exotel's
 * AgentStream dialect as documented (https://developer.exotel.com/docs/agentstream/websocket-protocol):
 * a bare `connected`, snake_case fields, `sample_rate` as a string, PCM16 little-endian 8 kHz
 * both ways in 20 ms frames (the docs disagree on 20 vs 100 ms; 20 ms is the stricter test of
 * barge-in timing), marks echoed when the audio before them has played. Outbound media not in
 * multiples of 320 bytes is a violation (Exotel: "must be a multiple of 320 bytes" — otherwise it
 * waits 20 ms and leaves a gap). What `clear` does to pending marks is not documented: the
 * default here drops them without an echo, and tests pass `clearMarks` to try the others.
 */
import { randomBytes } from 'node:crypto';
import type { ClearMarkPolicy } from './twilio-player.js';
import type { CallerWire } from './caller-wire.js';
import { FakeTwilioCaller, type FakeTwilioCallerOptions } from './twilio-caller.js';
import { readTwilioShapedMessage } from './twilio-wire.js';

function exotelSid(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

/** Exotel's wire, with a choice of what `clear` does to pending marks (undocumented). */
export function exotelWire(clearMarks: ClearMarkPolicy = 'drop'): CallerWire {
  return {
    name: 'exotel',
    encoding: 'pcm16',
    clearMarks,
    mediaUnitBytes: 320,
    newIds: () => ({ streamId: exotelSid('MZ'), callId: exotelSid('CA'), accountId: exotelSid('AC') }),
    connected: () => ({ event: 'connected' }),
    start: (ids, sequence_number, custom_parameters, overrides) => ({
      event: 'start',
      sequence_number,
      stream_sid: ids.streamId,
      start: {
        stream_sid: ids.streamId,
        call_sid: ids.callId,
        account_sid: ids.accountId,
        from: '+919876543210',
        to: '+918047491899',
        custom_parameters,
        media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' },
        ...overrides,
      },
    }),
    media: (ids, sequence_number, chunk, timestamp, payload) => ({ event: 'media', sequence_number, stream_sid: ids.streamId, media: { chunk, timestamp, payload } }),
    markEcho: (ids, sequence_number, name) => ({ event: 'mark', sequence_number, stream_sid: ids.streamId, mark: { name } }),
    dtmf: (ids, sequence_number, digit) => ({ event: 'dtmf', sequence_number, stream_sid: ids.streamId, dtmf: { digit, duration: '100' } }),
    stop: (ids, sequence_number) => ({ event: 'stop', sequence_number, stream_sid: ids.streamId, stop: { call_sid: ids.callId, account_sid: ids.accountId, reason: 'callended' } }),
    read: (text, ids) => readTwilioShapedMessage(text, ids.streamId, 'stream_sid'),
  };
}

/** Connects a fake Exotel caller to `url` (`ws://…/exotel/media`) and starts its stream. */
export function connectExotelCaller(url: string, options: Omit<FakeTwilioCallerOptions, 'wire'> & { readonly clearMarks?: ClearMarkPolicy } = {}): Promise<FakeTwilioCaller> {
  const { clearMarks, ...rest } = options;
  return FakeTwilioCaller.connect(url, { ...rest, wire: exotelWire(clearMarks) });
}
