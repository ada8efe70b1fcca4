/**
 * Binary audio frames of the browser protocol v1: a fixed 16-byte little-endian header followed
 * by PCM16 LE mono samples. Pure and allocation-light: decoding returns a view into the input.
 *
 *   offset size field
 *        0    1 magic/version  0xA0 | version (v1: 0xA1)
 *        1    1 kind           1 = audio (server → client), 2 = mic (client → server)
 *        2    1 format         1 = PCM16 16 kHz, 2 = PCM16 24 kHz
 *        3    1 reserved       0
 *        4    4 epoch          u32
 *        8    4 seq            u32, per epoch for audio, per connection for mic (wraps)
 *       12    4 sentenceId     u32 (mic: 0)
 *       16    … samples        PCM16 LE
 */
import { vwError, type VoicewireError } from '../../errors.js';
import { PROTOCOL_VERSION, type WireRate } from './messages.js';

export const FRAME_HEADER_BYTES = 16;
export const FRAME_MAGIC = 0xa0;
export const FRAME_MAGIC_MASK = 0xf0;

export const FRAME_KIND_CODES = { audio: 1, mic: 2 } as const;
export type FrameKind = keyof typeof FRAME_KIND_CODES;

export const FORMAT_CODES = { 16000: 1, 24000: 2 } as const satisfies Record<WireRate, number>;

/** Why a binary frame was refused; the `detail` of VW_ERR_BAD_FRAME. */
export type FrameErrorReason =
  | 'too-short'
  | 'magic'
  | 'version'
  | 'kind'
  | 'direction'
  | 'reserved'
  | 'format'
  | 'rate-mismatch'
  | 'odd-length'
  | 'empty'
  | 'too-long';

export interface WireFrame {
  readonly kind: FrameKind;
  readonly sampleRate: WireRate;
  readonly epoch: number;
  readonly seq: number;
  readonly sentenceId: number;
  /** PCM16 LE samples; when decoded, a view into the input bytes. */
  readonly pcm: Uint8Array;
}

export interface FrameExpectations {
  /** The kind this receiver accepts (a server accepts `mic`, a client `audio`). */
  readonly kind?: FrameKind;
  /** The negotiated rate for this direction. */
  readonly sampleRate?: WireRate;
  /** Longest frame accepted, in ms of audio. */
  readonly maxMs?: number;
}

export type FrameResult =
  | { readonly ok: true; readonly frame: WireFrame }
  | { readonly ok: false; readonly error: VoicewireError; readonly reason: FrameErrorReason };

const U32_MAX = 0xffffffff;

function fail(reason: FrameErrorReason): FrameResult {
  return { ok: false, error: vwError('VW_ERR_BAD_FRAME', reason), reason };
}

function kindOf(code: number): FrameKind | undefined {
  if (code === FRAME_KIND_CODES.audio) return 'audio';
  if (code === FRAME_KIND_CODES.mic) return 'mic';
  return undefined;
}

function rateOf(code: number): WireRate | undefined {
  if (code === FORMAT_CODES[16000]) return 16000;
  if (code === FORMAT_CODES[24000]) return 24000;
  return undefined;
}

/** Duration in ms of `pcmBytes` of PCM16 at `sampleRate`. */
export function pcmDurationMs(pcmBytes: number, sampleRate: number): number {
  return (pcmBytes / 2 / sampleRate) * 1000;
}

/**
 * Decodes one binary frame. Never throws: any bytes give a frame or a VW_ERR_BAD_FRAME with the
 * reason. Checks run in header order, so the reason names the first thing wrong.
 */
export function decodeFrame(bytes: Uint8Array, expect: FrameExpectations = {}): FrameResult {
  if (bytes.byteLength < FRAME_HEADER_BYTES) return fail('too-short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint8(0);
  if ((first & FRAME_MAGIC_MASK) !== FRAME_MAGIC) return fail('magic');
  if ((first & ~FRAME_MAGIC_MASK) !== PROTOCOL_VERSION) return fail('version');
  const kind = kindOf(view.getUint8(1));
  if (kind === undefined) return fail('kind');
  if (expect.kind !== undefined && kind !== expect.kind) return fail('direction');
  const sampleRate = rateOf(view.getUint8(2));
  if (sampleRate === undefined) return fail('format');
  if (view.getUint8(3) !== 0) return fail('reserved');
  if (expect.sampleRate !== undefined && sampleRate !== expect.sampleRate) return fail('rate-mismatch');
  const pcmBytes = bytes.byteLength - FRAME_HEADER_BYTES;
  if (pcmBytes % 2 !== 0) return fail('odd-length');
  if (pcmBytes === 0) return fail('empty');
  if (expect.maxMs !== undefined && pcmDurationMs(pcmBytes, sampleRate) > expect.maxMs) return fail('too-long');
  return {
    ok: true,
    frame: {
      kind,
      sampleRate,
      epoch: view.getUint32(4, true),
      seq: view.getUint32(8, true),
      sentenceId: view.getUint32(12, true),
      pcm: bytes.subarray(FRAME_HEADER_BYTES),
    },
  };
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

/** Encodes a frame (header + a copy of the samples). Invalid fields are a RangeError: a bug, not input. */
export function encodeFrame(frame: WireFrame): Uint8Array<ArrayBuffer> {
  checkU32('epoch', frame.epoch);
  checkU32('seq', frame.seq);
  checkU32('sentenceId', frame.sentenceId);
  if (frame.pcm.byteLength % 2 !== 0) throw new RangeError(`pcm has an odd length ${frame.pcm.byteLength}`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + frame.pcm.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, FRAME_MAGIC | PROTOCOL_VERSION);
  view.setUint8(1, FRAME_KIND_CODES[frame.kind]);
  view.setUint8(2, FORMAT_CODES[frame.sampleRate]);
  view.setUint8(3, 0);
  view.setUint32(4, frame.epoch, true);
  view.setUint32(8, frame.seq, true);
  view.setUint32(12, frame.sentenceId, true);
  out.set(frame.pcm, FRAME_HEADER_BYTES);
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies PCM16 LE bytes into an Int16Array (any alignment, any host byte order). */
export function pcmToInt16(pcm: Uint8Array): Int16Array {
  const count = pcm.byteLength >> 1;
  if (HOST_LITTLE_ENDIAN) {
    const copy = new Uint8Array(count * 2);
    copy.set(pcm.subarray(0, count * 2));
    return new Int16Array(copy.buffer);
  }
  const out = new Int16Array(count);
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** PCM16 LE bytes of `samples`: a view on little-endian hosts, a copy otherwise. */
export function int16ToPcm(samples: Int16Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i] ?? 0, true);
  return out;
}
