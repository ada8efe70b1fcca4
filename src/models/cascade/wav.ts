/**
 * RIFF/WAVE for the cascade's HTTP stages: the STT request carries the utterance as a 16-bit mono
 * WAV file; a TTS answering `response_format: 'wav'` streams a header and then raw PCM16, often
 * with the data size left at 0xFFFFFFFF (unknown length), so the parser only needs the header.
 */
import { vwError } from '../../errors.js';

const HEADER_BYTES = 44;

/** A 16-bit PCM mono WAV file holding `samples`. */
export function encodeWav(samples: Int16Array, sampleRate: number): Uint8Array<ArrayBuffer> {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(out.buffer);
  writeAscii(out, 0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  writeAscii(out, 8, 'WAVE');
  writeAscii(out, 12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  writeAscii(out, 36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(HEADER_BYTES + i * 2, samples[i] ?? 0, true);
  return out;
}

export interface WavHeader {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  /** Offset of the first sample byte. */
  readonly dataOffset: number;
  /** Declared data size; 0xFFFFFFFF (or 0) when the sender streams an unknown length. */
  readonly dataBytes: number;
}

/** Largest header accepted (chunks such as LIST before `data`); a bound on what we buffer. */
export const MAX_WAV_HEADER_BYTES = 8192;

/**
 * Parses the header at the start of `bytes`. Returns undefined while more bytes are needed;
 * throws VW_ERR_MALFORMED_STREAM for anything that is not 16-bit PCM WAV.
 */
export function parseWavHeader(bytes: Uint8Array, source = 'wav'): WavHeader | undefined {
  if (bytes.length < 12) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (readAscii(bytes, 0) !== 'RIFF' || readAscii(bytes, 8) !== 'WAVE') {
    throw vwError('VW_ERR_MALFORMED_STREAM', source, 'not a RIFF/WAVE file');
  }
  let offset = 12;
  let format: { sampleRate: number; channels: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= bytes.length) {
    const id = readAscii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (!format) throw vwError('VW_ERR_MALFORMED_STREAM', source, 'data chunk before fmt chunk');
      return { ...format, dataOffset: body, dataBytes: size };
    }
    if (body + size > MAX_WAV_HEADER_BYTES) {
      throw vwError('VW_ERR_MALFORMED_STREAM', source, `header longer than ${MAX_WAV_HEADER_BYTES} bytes`);
    }
    if (body + size > bytes.length) return undefined;
    if (id === 'fmt ') format = readFormat(view, body, size, source);
    offset = body + size + (size & 1); // chunks are padded to even sizes
  }
  if (offset > MAX_WAV_HEADER_BYTES) {
    throw vwError('VW_ERR_MALFORMED_STREAM', source, `header longer than ${MAX_WAV_HEADER_BYTES} bytes`);
  }
  return undefined;
}

function readFormat(
  view: DataView,
  at: number,
  size: number,
  source: string,
): { sampleRate: number; channels: number; bitsPerSample: number } {
  if (size < 16) throw vwError('VW_ERR_MALFORMED_STREAM', source, 'fmt chunk too short');
  const tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  // 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which some encoders use for plain PCM too.
  if ((tag !== 1 && tag !== 0xfffe) || bitsPerSample !== 16 || channels < 1 || sampleRate <= 0) {
    throw vwError('VW_ERR_MALFORMED_STREAM', source, `unsupported format tag ${tag}, ${bitsPerSample} bits, ${channels} channels`);
  }
  return { sampleRate, channels, bitsPerSample };
}

function writeAscii(out: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
}

function readAscii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}
