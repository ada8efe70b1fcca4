/**
 * A fake Telnyx caller: the fake media-stream caller (twilio-caller.ts) speaking Telnyx's dialect
 * as documented (https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket):
 * `connected` with only a version, snake_case fields, a UUID `stream_id`, a `v3:` call control id,
 * PCMU 8 kHz, marks echoed once the media before them has played and queued marks returned on
 * `clear`. It reads what we send as strictly as the docs describe it: `media`, `mark` and
 * `clear` carry no stream id and no other fields.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CallerWire, ServerMessage } from './caller-wire.js';
import { FakeTwilioCaller, type FakeTwilioCallerOptions } from './twilio-caller.js';
import { BASE64, exactKeys, isObject } from './twilio-wire.js';

function readTelnyxServerMessage(text: string): ServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { event: 'invalid', violation: 'bad-json', detail: text.slice(0, 80) };
  }
  if (!isObject(msg) || typeof msg['event'] !== 'string') return { event: 'invalid', violation: 'no-event', detail: text.slice(0, 80) };
  const event = msg['event'];
  const badFields = { event, violation: 'bad-fields', detail: text.slice(0, 120) };
  switch (event) {
    case 'media': {
      const media = msg['media'];
      if (!exactKeys(msg, ['event', 'media']) || !isObject(media) || !exactKeys(media, ['payload'])) return badFields;
      const payload = media['payload'];
      if (typeof payload !== 'string' || payload === '' || !BASE64.test(payload)) return { event, violation: 'bad-base64', detail: String(payload).slice(0, 40) };
      return { event, bytes: new Uint8Array(Buffer.from(payload, 'base64')) };
    }
    case 'mark': {
      const mark = msg['mark'];
      if (!exactKeys(msg, ['event', 'mark']) || !isObject(mark) || !exactKeys(mark, ['name']) || typeof mark['name'] !== 'string') return badFields;
      return { event, name: mark['name'] };
    }
    case 'clear':
      return exactKeys(msg, ['event']) ? { event } : badFields;
    default:
      return { event, violation: 'unknown-event', detail: event.slice(0, 40) };
  }
}

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
  read: (text) => readTelnyxServerMessage(text),
};

/** Connects a fake Telnyx caller to `url` (`ws://…/telnyx/media`) and starts its stream. */
export function connectTelnyxCaller(url: string, options: Omit<FakeTwilioCallerOptions, 'wire'> = {}): Promise<FakeTwilioCaller> {
  return FakeTwilioCaller.connect(url, { ...options, wire: TELNYX_WIRE });
}
