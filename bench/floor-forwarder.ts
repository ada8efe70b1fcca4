/**
 * Two lower bounds for `npm run bench:load -- --floors`: bridges that do less than any real gateway
 * could, measured in the same run as the gateway and the naive forwarder, so that the gateway's
 * cost can be split into what moving the messages costs and what its own logic costs.
 *
 * - `recv`: takes every caller frame and model message through `ws` and does nothing with them
 *   (the caller hears nothing). The cost of receiving alone: kernel reads, Node's streams, ws's
 *   frame parser.
 * - `cadence`: the gateway's message cadence with no logic at all: each caller frame's payload is
 *   found by searching the bytes and decoded into a per-call batch, which goes to the model as one
 *   append every 20 frames (400 ms, the gateway's idle batch); each model delta is found the same
 *   way and forwarded at once as a Twilio media message built by string concatenation. No JSON
 *   parsing of audio messages, no marks, no queue, no credit, no barge-in (non-audio messages,
 *   e.g. `start`, take the naive forwarder's path).
 *
 * Bench code like the naive forwarder: unbounded, unvalidated on purpose; never copy it into src/.
 */
import type { RawData } from 'ws';
import { WebSocket } from 'ws';
import { naiveHandlers, startBridgeServer, type Bridge, type BridgeHandlers, type NaiveForwarder, type NaiveForwarderOptions } from './naive-forwarder.js';

export type FloorMode = 'recv' | 'cadence';

/** Caller frames per append in `cadence` mode: 20 × 20 ms = the gateway's idle batch (400 ms). */
const FRAMES_PER_APPEND = 20;
/** Bytes of one batch: 400 ms of 8 kHz μ-law with room to spare. */
const BATCH_BYTES = 4096;
const QUOTE = 0x22;

const MEDIA_HEAD = Buffer.from('{"event":"media"');
const DELTA_HEAD = Buffer.from('{"type":"response.output_audio.delta"');
const PAYLOAD_KEY = Buffer.from('"payload":"');
const DELTA_KEY = Buffer.from('"delta":"');

function startsWith(data: Buffer, head: Buffer): boolean {
  return data.length >= head.length && data.compare(head, 0, head.length, 0, head.length) === 0;
}

/** The string value that follows `key` up to the next quote (no unescaping: base64 needs none). */
function valueAfter(data: Buffer, key: Buffer): string | undefined {
  const at = data.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = data.indexOf(QUOTE, start);
  return end < 0 ? undefined : data.toString('latin1', start, end);
}

interface Batch {
  readonly bytes: Buffer;
  length: number;
  frames: number;
}

function floorHandlers(mode: FloorMode): BridgeHandlers {
  const naive = naiveHandlers();
  if (mode === 'recv') {
    return {
      caller: (bridge, data) => {
        if (!startsWith(data as Buffer, MEDIA_HEAD)) naive.caller(bridge, data);
      },
      model: () => undefined,
    };
  }
  const batches = new WeakMap<Bridge, Batch>();
  return {
    caller: (bridge: Bridge, data: RawData) => {
      const bytes = data as Buffer;
      if (!startsWith(bytes, MEDIA_HEAD)) return naive.caller(bridge, data);
      let batch = batches.get(bridge);
      if (batch === undefined) batches.set(bridge, (batch = { bytes: Buffer.alloc(BATCH_BYTES), length: 0, frames: 0 }));
      const payload = valueAfter(bytes, PAYLOAD_KEY);
      if (payload !== undefined) batch.length += batch.bytes.write(payload, batch.length, 'base64');
      if (++batch.frames < FRAMES_PER_APPEND) return;
      if (bridge.model.readyState === WebSocket.OPEN) {
        bridge.model.send(`{"type":"input_audio_buffer.append","audio":"${batch.bytes.toString('base64', 0, batch.length)}"}`);
      }
      batch.length = 0;
      batch.frames = 0;
    },
    model: (bridge: Bridge, data: RawData) => {
      const bytes = data as Buffer;
      if (!startsWith(bytes, DELTA_HEAD)) return;
      const delta = valueAfter(bytes, DELTA_KEY);
      if (delta !== undefined && bridge.caller.readyState === WebSocket.OPEN) {
        bridge.caller.send(`{"event":"media","streamSid":"${bridge.streamSid}","media":{"payload":"${delta}"}}`);
      }
    },
  };
}

/** Starts a floor bridge on `host:port` (port 0: an ephemeral one). */
export function startFloorForwarder(options: NaiveForwarderOptions, mode: FloorMode, port = 0, host = '127.0.0.1'): Promise<NaiveForwarder> {
  return startBridgeServer(options, floorHandlers(mode), port, host);
}
