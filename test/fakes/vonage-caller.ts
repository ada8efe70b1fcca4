/**
 * A fake Vonage Voice API caller over a real `ws` client: what Vonage does on an NCCO `connect` to a
 * `websocket` endpoint (vonage-wire.ts for the sources), so server tests see the real protocol and
 * real time.
 *
 * - Sends `websocket:connected` (the content-type and the endpoint's headers, flattened), then
 *   binary 20 ms L16 frames (little-endian) at exactly the sample rate: silence or speech.
 * - Plays binary frames in real time (a buffer of 3072 frames, ~61 s, as Vonage documents);
 *   answers a `notify` with `websocket:notify` and the same payload once the audio before it has
 *   played; `clear` empties the buffer and is answered with `websocket:cleared`. What happens to
 *   notifies a clear dropped is not documented, so it is an option: `'drop'` (never echoed),
 *   `'notify-before-cleared'` or `'notify-after-cleared'` (echoed at once).
 * - Checks every server message as Vonage would; `violations` should stay empty.
 */
import { randomUUID } from 'node:crypto';
import { PacedCaller, from8k, openSocket, type Handled } from './paced-caller.js';
import { readVonageBinary, readVonageText } from './vonage-wire.js';

export type VonageClearPolicy = 'drop' | 'notify-before-cleared' | 'notify-after-cleared';

export interface FakeVonageCallerOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Stream rate (default 16000). */
  readonly rate?: 8000 | 16000;
  readonly onClear?: VonageClearPolicy;
  /** The NCCO endpoint's headers, flattened into websocket:connected (default: a uuid). */
  readonly endpointHeaders?: Readonly<Record<string, string>>;
  readonly autoStart?: boolean;
  readonly sendSilence?: boolean;
  readonly tickMs?: number;
}

/** Vonage buffers up to 3072 messages of 20 ms (~61 s). */
const BUFFER_FRAMES = 3072;

export class FakeVonageCaller extends PacedCaller {
  readonly uuid: string;
  readonly frameBytes: number;
  /** Acknowledgements sent, in order: notify payload names and `websocket:cleared`. */
  readonly acks: string[] = [];
  private started = false;

  private constructor(ws: Awaited<ReturnType<typeof openSocket>>, private readonly options: FakeVonageCallerOptions) {
    const rate = options.rate ?? 16000;
    super(ws, { format: { encoding: 'pcm16', sampleRate: rate }, maxBufferedMs: BUFFER_FRAMES * 20, ...(options.tickMs ? { tickMs: options.tickMs } : {}), ...(options.sendSilence === false ? { sendSilence: false } : {}) }, 'fake vonage');
    this.frameBytes = (rate / 1000) * 20 * 2;
    this.uuid = options.endpointHeaders?.['uuid'] ?? randomUUID();
  }

  /** Connects to `url` (e.g. ws://127.0.0.1:<port>/vonage/media?…) and, unless autoStart is false, sends websocket:connected. */
  static async connect(url: string, options: FakeVonageCallerOptions = {}): Promise<FakeVonageCaller> {
    const caller = new FakeVonageCaller(await openSocket(url, options.headers), options);
    if (options.autoStart ?? true) caller.sendConnected();
    return caller;
  }

  sendConnected(): void {
    if (this.started) throw new Error('fake vonage: already connected');
    this.started = true;
    this.sendJson({ event: 'websocket:connected', 'content-type': `audio/l16;rate=${this.format.sampleRate}`, uuid: this.uuid, ...this.options.endpointHeaders });
    this.startClock();
  }

  speak8k(samples8k: Int16Array): Promise<void> {
    return this.sendSpeech(from8k(samples8k, this.format.sampleRate));
  }

  sendDtmf(digit: string, duration = 260): void {
    this.sendJson({ event: 'websocket:dtmf', digit, duration });
  }

  /** A websocket:notify the server never asked for. */
  sendNotify(payload: Record<string, unknown>): void {
    this.sendJson({ event: 'websocket:notify', payload });
  }

  protected sendFrame(frame: Uint8Array): void {
    this.sendRaw(frame);
  }

  protected onBinary(bytes: Uint8Array, at: number): Handled {
    const msg = readVonageBinary(bytes, this.frameBytes);
    if (msg.kind === 'violation') return { event: msg.event, violation: this.violation(msg.violation, msg.detail) };
    if (msg.kind === 'audio') this.play(msg.bytes, at);
    return { event: 'audio', bytes: bytes.length };
  }

  protected onText(text: string, at: number): Handled {
    const msg = readVonageText(text);
    if (msg.kind === 'violation') return { event: msg.event, violation: this.violation(msg.violation, msg.detail) };
    if (msg.kind === 'notify') {
      // The marker's name is the payload itself: echoed unchanged.
      const name = JSON.stringify(msg.payload);
      if (!this.player.enqueueMark(name, at)) this.violation('too-many-notifies', name);
      return { event: 'notify', name };
    }
    if (msg.kind === 'audio') return { event: 'invalid', violation: this.violation('audio-as-text', 'audio must be binary') };
    const policy = this.options.onClear ?? 'drop';
    const when = policy === 'notify-before-cleared' ? 'before' : policy === 'notify-after-cleared' ? 'after' : 'drop';
    this.flushAndAcknowledge(at, when, () => {
      this.acks.push('websocket:cleared');
      this.sendJson({ event: 'websocket:cleared' });
    }, (name) => this.echo(name));
    return { event: 'clear' };
  }

  protected onMarkerPlayed(name: string): void {
    this.echo(name);
  }

  private echo(name: string): void {
    const payload = JSON.parse(name) as Record<string, unknown>;
    this.acks.push(typeof payload['name'] === 'string' ? payload['name'] : name);
    this.sendJson({ event: 'websocket:notify', payload });
  }
}
