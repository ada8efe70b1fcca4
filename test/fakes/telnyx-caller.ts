/**
 * A fake Telnyx caller: the fake media-stream caller (twilio-caller.ts) speaking Telnyx's dialect
 * as documented (https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket):
 * `connected` with only a version, snake_case fields, a UUID `stream_id`, a `v3:` call control id,
 * PCMU 8 kHz, marks echoed once the media before them has played and queued marks returned on
 * `clear`. It reads what we send as strictly as the docs describe it: `media`, `mark` and
 * `clear` carry no stream id and no other fields.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CallerWire } from './caller-wire.js';
import { FakeTwilioCaller, type FakeTwilioCallerOptions } from './twilio-caller.js';
import { readTwilioShapedMessage } from './twilio-wire.js';

export const TELNYX_WIRE: CallerWire = {
  name: 'telnyx',
  encoding: 'pcmu',
  clearMarks: 'echo',
  mediaUnitBytes: 1,
  newIds: () => ({
    streamId: randomUUID().toUpperCase(),
    callId: `v3:${randomBytes(40).toString('base64url')}`,
    accountId: randomUUID(),
  }),
  connected: () => ({ event: 'connected', version: '1.0.0' }),
  start: (ids, sequence_number, custom_parameters, overrides) => ({
    event: 'start',
    sequence_number,
    stream_id: ids.streamId,
    start: {
      user_id: ids.accountId,
      call_control_id: ids.callId,
      call_session_id: randomUUID(),
      from: '+13122010094',
      to: '+13122123456',
      tags: [],
      client_state: null,
      custom_parameters,
      media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
      ...overrides,
    },
  }),
  media: (ids, sequence_number, chunk, timestamp, payload) => ({ event: 'media', sequence_number, media: { track: 'inbound', chunk, timestamp, payload }, stream_id: ids.streamId }),
  markEcho: (ids, sequence_number, name) => ({ event: 'mark', sequence_number, stream_id: ids.streamId, mark: { name } }),
  dtmf: (ids, sequence_number, digit) => ({ event: 'dtmf', stream_id: ids.streamId, occurred_at: new Date().toISOString(), sequence_number, dtmf: { digit } }),
  stop: (ids, sequence_number) => ({ event: 'stop', sequence_number, stop: { user_id: ids.accountId, call_control_id: ids.callId }, stream_id: ids.streamId }),
  read: (text, ids) => readTwilioShapedMessage(text, ids.streamId, undefined),
};

/** Connects a fake Telnyx caller to `url` (`ws://…/telnyx/media`) and starts its stream. */
export function connectTelnyxCaller(url: string, options: Omit<FakeTwilioCallerOptions, 'wire'> = {}): Promise<FakeTwilioCaller> {
  return FakeTwilioCaller.connect(url, { ...options, wire: TELNYX_WIRE });
}
