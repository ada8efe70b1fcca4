/**
 * WebSocket text frames written straight to a `ws` connection's socket, for the load generator's hot
 * sends (a caller's 50 `media` frames a second, its mark echoes, the model's deltas).
 *
 * Through `ws.send` each frame costs a header Buffer, a Buffer copy of the string, a cork/uncork and
 * a two-buffer writev with its write request; here it is one latin1 string the socket writes from a
 * stack buffer with one `write` call. The bytes on the wire are the ones `ws` sends (RFC 6455 §5.2:
 * FIN, opcode 1, the length in 7, 7+16 or 7+64 bits; a client's mask bit with the all-zero key the
 * lean callers give `ws`, so the payload goes unchanged): test/bench/load/ws-frames.test.ts compares
 * them with `ws`'s own framing. Only for ASCII text (one byte per char), which callers check.
 */
import { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** The header of a final text frame of `length` bytes as latin1 chars; masked with the zero key when `masked`. */
export function textFrameHeader(length: number, masked: boolean): string {
  const maskBit = masked ? 0x80 : 0;
  const key = masked ? '\x00\x00\x00\x00' : '';
  if (length <= 125) return '\x81' + String.fromCharCode(maskBit | length) + key;
  if (length < 65_536) return '\x81' + String.fromCharCode(maskBit | 126, length >>> 8, length & 0xff) + key;
  // 64-bit length: the top bytes are zero for any string Node can hold.
  const high = Math.floor(length / 2 ** 32);
  return '\x81' + String.fromCharCode(maskBit | 127, 0, 0, (high >>> 8) & 0xff, high & 0xff, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff) + key;
}

/** True when every char of `text` is ASCII (then its UTF-8 bytes are its latin1 bytes). */
export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * Writes text frames of one open `ws` connection directly to its socket. `masked`: true on the
 * client side, whose `ws` must have been made with a zero `generateMask` (the frames then match).
 */
export class DirectTextWriter {
  private readonly socket: Socket;

  constructor(
    private readonly ws: WebSocket,
    private readonly masked: boolean,
  ) {
    // `_socket` is ws's own field (lib/websocket.js, set by setSocket); checked, not assumed.
    const socket = (ws as unknown as { _socket?: unknown })._socket;
    if (!(socket instanceof Socket)) throw new Error('ws-frames: the WebSocket has no net.Socket (not open yet, or ws changed)');
    this.socket = socket;
  }

  /** Sends `asciiText` as one text frame; the caller guarantees ASCII and an open connection. */
  send(asciiText: string): void {
    this.socket.write(textFrameHeader(asciiText.length, this.masked) + asciiText, 'latin1');
  }

  /** Sends any text: directly when ASCII, else through `ws` (UTF-8). */
  sendText(text: string): void {
    if (isAscii(text)) this.send(text);
    else this.ws.send(text);
  }
}
