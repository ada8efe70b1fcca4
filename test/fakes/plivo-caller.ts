/**
 * A fake Plivo caller over a real `ws` client: what Plivo Audio Streams does on a bidirectional
 * `<Stream>` (/work/shared/protocols.md §7, plivo-wire.ts for the sources), so server tests see the
 * real protocol and real time.
 *
 * - Sends `start` (UUID call and stream ids, mediaFormat, extra_headers), then 20 ms `media` frames
 *   at exactly the stream's sample rate (μ-law 8 kHz, or L16 8/16 kHz little-endian), silence or
 *   speech. No `stop`: Plivo just closes the socket.
 * - Plays `playAudio` in real time; answers a `checkpoint` with `playedStream` only once the audio
 *   before it has played; `clearAudio` empties the buffer and is answered with `clearedAudio`.
 *   What happens to the checkpoints a clear dropped is Plivo's open question, so it is an option:
 *   `'drop'` (never acknowledged: what Plivo's docs imply), `'ack-before-cleared'` or
 *   `'ack-after-cleared'` (acknowledged at once, before or after `clearedAudio`).
 * - Checks every server message as Plivo would; `violations` should stay empty.
 */
import { randomUUID } from 'node:crypto';
import { PacedCaller, from8k, openSocket, type CallerFormat, type Handled } from './paced-caller.js';
import { readPlivoServerMessage, type PlivoWireFormat } from './plivo-wire.js';

export type PlivoClearPolicy = 'drop' | 'ack-before-cleared' | 'ack-after-cleared';
export type PlivoFormatName = 'mulaw-8000' | 'l16-8000' | 'l16-16000';

export interface FakePlivoCallerOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Stream format (default μ-law 8 kHz, what our answer XML asks for). */
  readonly format?: PlivoFormatName;
  readonly onClear?: PlivoClearPolicy;
  readonly streamId?: string;
  readonly callId?: string;
  readonly extraHeaders?: string;
  /** Send `start` once open (default true). */
  readonly autoStart?: boolean;
  readonly sendSilence?: boolean;
  readonly tickMs?: number;
  readonly maxBufferedMs?: number;
}

const FORMATS: Record<PlivoFormatName, { wire: PlivoWireFormat; caller: CallerFormat }> = {
  'mulaw-8000': { wire: { contentType: 'audio/x-mulaw', sampleRate: 8000 }, caller: { encoding: 'pcmu', sampleRate: 8000 } },
  'l16-8000': { wire: { contentType: 'audio/x-l16', sampleRate: 8000 }, caller: { encoding: 'pcm16', sampleRate: 8000 } },
  'l16-16000': { wire: { contentType: 'audio/x-l16', sampleRate: 16000 }, caller: { encoding: 'pcm16', sampleRate: 16000 } },
};

export class FakePlivoCaller extends PacedCaller {
  readonly streamId: string;
  readonly callId: string;
  readonly wire: PlivoWireFormat;
  /** Acknowledgements sent: `playedStream` names and `clearedAudio`, in order. */
  readonly acks: string[] = [];
  private sequence = 0;
  private started = false;
  /** Checkpoints a clear is dropping right now (collected while the player flushes). */

  private constructor(ws: Awaited<ReturnType<typeof openSocket>>, private readonly options: FakePlivoCallerOptions) {
    const format = FORMATS[options.format ?? 'mulaw-8000'];
    super(ws, { format: format.caller, ...(options.tickMs ? { tickMs: options.tickMs } : {}), ...(options.sendSilence === false ? { sendSilence: false } : {}), ...(options.maxBufferedMs ? { maxBufferedMs: options.maxBufferedMs } : {}) }, 'fake plivo');
    this.wire = format.wire;
    this.streamId = options.streamId ?? randomUUID();
    this.callId = options.callId ?? randomUUID();
  }

  /** Connects to `url` (e.g. ws://127.0.0.1:<port>/plivo/media) and, unless autoStart is false, sends `start`. */
  static async connect(url: string, options: FakePlivoCallerOptions = {}): Promise<FakePlivoCaller> {
    const caller = new FakePlivoCaller(await openSocket(url, options.headers), options);
    if (options.autoStart ?? true) caller.sendStart();
    return caller;
  }

  /** Flushes (`clearAudio`) received so far. */
  get clearCount(): number {
    return this.clears.length;
  }

  sendStart(): void {
    if (this.started) throw new Error('fake plivo: start already sent');
    this.started = true;
    this.sendJson({
      event: 'start',
      sequenceNumber: this.nextSequence(),
      start: {
        callId: this.callId,
        streamId: this.streamId,
        accountId: 'MAXXXXXXXXXXXXXXXXXX',
        tracks: ['inbound'],
        mediaFormat: { encoding: this.wire.contentType, sampleRate: this.wire.sampleRate },
      },
      extra_headers: this.options.extraHeaders ?? '',
    });
    this.startClock();
  }

  /** Speaks 8 kHz PCM16 samples (converted to the stream's rate). */
  speak8k(samples8k: Int16Array): Promise<void> {
    return this.sendSpeech(from8k(samples8k, this.format.sampleRate));
  }

  sendDtmf(digit: string): void {
    this.sendJson({ event: 'dtmf', sequenceNumber: this.nextSequence(), streamId: this.streamId, dtmf: { track: 'inbound', digit, timestamp: String(Date.now()) } });
  }

  /** A `playedStream` the server never asked for (forged or stale names). */
  sendPlayed(name: string): void {
    this.sendJson({ event: 'playedStream', sequenceNumber: this.nextSequence(), streamId: this.streamId, name });
  }

  private nextSequence(): number {
    return ++this.sequence;
  }

  protected sendFrame(frame: Uint8Array, index: number): void {
    this.sendJson({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      streamId: this.streamId,
      media: { track: 'inbound', timestamp: String(Date.now()), chunk: index + 1, payload: Buffer.from(frame).toString('base64') },
      extra_headers: this.options.extraHeaders ?? '',
    });
  }

  protected onBinary(): Handled {
    return { event: 'binary', violation: this.violation('binary-frame', 'Plivo streams carry JSON text only') };
  }

  protected onText(text: string, at: number): Handled {
    const msg = readPlivoServerMessage(text, this.streamId, this.wire);
    if ('violation' in msg) return { event: msg.event, violation: this.violation(msg.violation, msg.detail) };
    if ('bytes' in msg) {
      this.play(msg.bytes, at);
      return { event: 'audio', bytes: msg.bytes.length };
    }
    if ('name' in msg) {
      if (!this.player.enqueueMark(msg.name, at)) this.violation('too-many-checkpoints', msg.name);
      return { event: 'checkpoint', name: msg.name };
    }
    const policy = this.options.onClear ?? 'drop';
    const when = policy === 'ack-before-cleared' ? 'before' : policy === 'ack-after-cleared' ? 'after' : 'drop';
    this.flushAndAcknowledge(at, when, () => {
      this.acks.push('clearedAudio');
      this.sendJson({ sequenceNumber: this.nextSequence(), event: 'clearedAudio', streamId: this.streamId });
    }, (name) => this.ackPlayed(name));
    return { event: 'clearAudio' };
  }

  protected onMarkerPlayed(name: string): void {
    this.ackPlayed(name);
  }

  private ackPlayed(name: string): void {
    this.acks.push(name);
    this.sendPlayed(name);
  }
}
