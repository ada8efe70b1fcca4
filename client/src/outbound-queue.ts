/**
 * The mic's outbound queue: bounded in frames, drop-oldest (live audio: an old frame is worth less
 * than a new one), drained only while the socket's own buffer is below a threshold, so a slow
 * uplink loses the oldest speech instead of building delay. Pure: the socket is passed in.
 */

export interface SocketLike {
  readonly bufferedAmount: number;
  send(data: Uint8Array<ArrayBuffer>): void;
}

export interface OutboundQueueOptions {
  /** Frames held at most. */
  readonly maxFrames: number;
  /** Frames are sent only while `bufferedAmount` is below this. */
  readonly maxSocketBufferedBytes: number;
}

export class OutboundQueue {
  private frames: Array<Uint8Array<ArrayBuffer>> = [];
  private droppedCount = 0;
  private sentCount = 0;

  constructor(private readonly options: OutboundQueueOptions) {
    if (!Number.isInteger(options.maxFrames) || options.maxFrames <= 0) throw new RangeError(`maxFrames must be a positive integer (got ${options.maxFrames})`);
  }

  get length(): number {
    return this.frames.length;
  }

  /** Frames dropped because the queue was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  get sent(): number {
    return this.sentCount;
  }

  push(frame: Uint8Array<ArrayBuffer>): void {
    if (this.frames.length >= this.options.maxFrames) {
      this.frames.shift();
      this.droppedCount++;
    }
    this.frames.push(frame);
  }

  /** Sends queued frames while the socket has room; returns how many were sent. */
  flush(socket: SocketLike): number {
    let sent = 0;
    while (this.frames.length > 0 && socket.bufferedAmount < this.options.maxSocketBufferedBytes) {
      const frame = this.frames.shift();
      if (frame === undefined) break;
      socket.send(frame);
      sent++;
    }
    this.sentCount += sent;
    return sent;
  }

  /** Forgets queued frames (a new connection must not start with stale speech). */
  clear(): void {
    this.frames = [];
  }
}
