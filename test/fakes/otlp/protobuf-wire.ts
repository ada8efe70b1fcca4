/**
 * A minimal protobuf wire-format reader (varint, 64-bit, length-delimited, 32-bit), enough to walk
 * OTLP messages field by field. Source: https://protobuf.dev/programming-guides/encoding/
 */

export interface WireField {
  readonly field: number;
  readonly wireType: 0 | 1 | 2 | 5;
  /** Varint (wire type 0) as bigint. */
  readonly varint?: bigint;
  /** The raw 8 bytes (1), 4 bytes (5) or the payload (2). */
  readonly bytes?: Uint8Array;
}

export class ProtobufError extends Error {}

/** Splits one message into its fields, in order. Throws ProtobufError on malformed input. */
export function readFields(buf: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtobufError('truncated varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > buf.length) throw new ProtobufError('truncated field');
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new ProtobufError('field number 0');
    if (wireType === 0) fields.push({ field, wireType, varint: varint() });
    else if (wireType === 1) fields.push({ field, wireType, bytes: take(8) });
    else if (wireType === 2) fields.push({ field, wireType, bytes: take(Number(varint())) });
    else if (wireType === 5) fields.push({ field, wireType, bytes: take(4) });
    else throw new ProtobufError(`unsupported wire type ${wireType}`);
  }
  return fields;
}

const text = new TextDecoder('utf-8', { fatal: false });

export const wire = {
  string: (f: WireField): string => text.decode(f.bytes ?? new Uint8Array()),
  hex: (f: WireField): string => Buffer.from(f.bytes ?? new Uint8Array()).toString('hex'),
  fixed64: (f: WireField): bigint => Buffer.from(f.bytes!).readBigUInt64LE(0),
  sfixed64: (f: WireField): bigint => Buffer.from(f.bytes!).readBigInt64LE(0),
  double: (f: WireField): number => Buffer.from(f.bytes!).readDoubleLE(0),
  fixed32: (f: WireField): number => Buffer.from(f.bytes!).readUInt32LE(0),
  int: (f: WireField): number => Number(BigInt.asIntN(64, f.varint ?? 0n)),
  /** A packed repeated fixed64 / double field (or one unpacked element). */
  packed64: (f: WireField, as: 'u64' | 'double'): number[] => {
    const b = Buffer.from(f.bytes!);
    const out: number[] = [];
    for (let i = 0; i + 8 <= b.length; i += 8) out.push(as === 'double' ? b.readDoubleLE(i) : Number(b.readBigUInt64LE(i)));
    return out;
  },
};
