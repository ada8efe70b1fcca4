/**
 * A fake Twilio caller over a real `ws` client: what Twilio Media Streams does on a bidirectional
 * `<Connect><Stream>`, as documented (/work/shared/protocols.md §3), so server tests see the real
 * protocol and real time.
 *
 * - Sends `connected`, `start` (MZ…/CA…/AC… sids, customParameters), then 20 ms `media` frames
 *   paced by absolute time at exactly 8000 samples/s: silence (0xFF), or speech given to
 *   `sendSpeech`. `sequenceNumber`, `chunk` and `timestamp` are digit strings.
 * - Plays what the server sends in real time (TwilioPlayer): echoes each mark when the audio before
 *   it has played, echoes every pending mark at once on `clear`.
 * - Records everything for assertions in bounded rings, and checks every server message as Twilio
 *   would (unknown event, wrong streamSid, missing or extra fields, bad base64, binary frames):
 *   `violations` should stay empty.
 *
 * It builds and checks JSON itself (twilio-wire.ts) and encodes μ-law with alawmulaw: it shares no
 * code with the gateway's codec, so a mistake there cannot hide behind the same mistake here. The
 * frame clock, player, logs and waits are the ones every fake carrier caller shares (paced-caller.ts).
 *
 * The same fake plays the carriers that copied Twilio's protocol: a `wire` option (caller-wire.ts)
 * gives it another carrier's message shapes, audio encoding (PCM16 for Exotel), flush behaviour
 * and outbound size rule (signalwire-caller.ts, telnyx-caller.ts, exotel-caller.ts).
 */
import alawmulaw from 'alawmulaw';
import type { WebSocket } from 'ws';
import { openCarrierSocket } from './caller-socket.js';
import { PacedCaller, type Handled } from './paced-caller.js';
import type { EchoCause, PlayerEcho, Ring } from './twilio-player.js';
import { TWILIO_WIRE } from './twilio-wire.js';
import type { CallIds, CallerWire } from './caller-wire.js';

export { Ring, type DryPeriod, type EchoCause } from './twilio-player.js';
export type { ClearEntry, ReceivedEntry, Violation } from './paced-caller.js';

export interface FakeTwilioCallerOptions {
  /** The carrier dialect spoken (default Twilio): SignalWire, Telnyx and Exotel fakes pass theirs. */
  readonly wire?: CallerWire;
  /** Extra headers on the upgrade request (e.g. `X-Twilio-Signature`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly streamSid?: string;
  readonly callSid?: string;
  readonly accountSid?: string;
  readonly customParameters?: Readonly<Record<string, string>>;
  /** Merged over the `start` object's fields (to test odd or broken starts). */
  readonly startOverrides?: Readonly<Record<string, unknown>>;
  /** Send `connected` + `start` once open (default true); otherwise call `sendStart()`. */
  readonly autoStart?: boolean;
  /** Stream silence frames while not speaking (default true, as Twilio does). */
  readonly sendSilence?: boolean;
  /** Stop reading the socket right after `start` (default false); see `pauseReading`. */
  readonly readPaused?: boolean;
  /** Resolution of the player and frame clock (default 10 ms). */
  readonly tickMs?: number;
  /** Capacity of the received-message log (default 20 000). */
  readonly logCap?: number;
  /** Bytes of played audio kept (default 30 s). */
  readonly playedAudioCap?: number;
  /** Most audio the player buffers (default 10 min); more is dropped and logged as a violation. */
  readonly maxBufferedMs?: number;
  readonly connectTimeoutMs?: number;
}

export interface EchoEntry extends PlayerEcho {
  /** When the echo was sent (≥ dueAt by at most one tick). */
  readonly at: number;
}

/** `ms` of a sine tone as 8 kHz PCM16 (speech stand-in for `sendSpeech`). */
export function toneSamples(ms: number, frequencyHz = 440, amplitude = 8000): Int16Array {
  const samples = new Int16Array(Math.round(ms * 8));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / 8000));
  return samples;
}

/** The same tone as μ-law bytes, for feeding a transport's `audio` event directly. */
export function toneMulaw(ms: number): Uint8Array {
  return alawmulaw.mulaw.encode(toneSamples(ms));
}

export class FakeTwilioCaller extends PacedCaller {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  /** `media` messages sent, injected ones included (the `chunk` of the last one). */
  mediaSent = 0;
  /** Headers of the server's 101 answer (e.g. a load balancer's X-Served-By). */
  upgradeHeaders: Readonly<Record<string, string | string[] | undefined>> = {};

  private readonly ids: CallIds;
  private sequence = 0;

  private constructor(
    ws: WebSocket,
    private readonly options: FakeTwilioCallerOptions,
    private readonly wire: CallerWire,
  ) {
    super(
      ws,
      {
        format: { encoding: wire.encoding, sampleRate: 8000 },
        clearMarks: wire.clearMarks,
        ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
        ...(options.sendSilence === undefined ? {} : { sendSilence: options.sendSilence }),
        ...(options.logCap === undefined ? {} : { logCap: options.logCap }),
        ...(options.maxBufferedMs === undefined ? {} : { maxBufferedMs: options.maxBufferedMs }),
        ...(options.playedAudioCap === undefined ? {} : { playedAudioCap: options.playedAudioCap }),
      },
      'fake twilio',
    );
    const ids = wire.newIds();
    this.streamSid = options.streamSid ?? ids.streamId;
    this.callSid = options.callSid ?? ids.callId;
    this.accountSid = options.accountSid ?? ids.accountId;
    this.ids = { streamId: this.streamSid, callId: this.callSid, accountId: this.accountSid };
  }

  /**
   * Connects to `url` (e.g. `ws://127.0.0.1:<port>/twilio/media`) and, unless `autoStart` is false,
   * sends `connected` and `start`. Rejects on a refused upgrade (`err.statusCode`) or after
   * `connectTimeoutMs` (default 5 s).
   */
  static async connect(url: string, options: FakeTwilioCallerOptions = {}): Promise<FakeTwilioCaller> {
    const { ws, upgradeHeaders } = await openCarrierSocket(url, options.headers, options.connectTimeoutMs);
    const caller = new FakeTwilioCaller(ws, options, options.wire ?? TWILIO_WIRE);
    caller.upgradeHeaders = upgradeHeaders;
    if (options.autoStart ?? true) caller.sendStart();
    return caller;
  }

  /** Mark echoes sent so far (played, or returned by a `clear`). */
  get echoes(): Ring<EchoEntry> {
    return this.markers;
  }

  /** ms of audio cleared without playing. */
  get clearedMs(): number {
    return this.player.clearedBytes / this.player.bytesPerMs;
  }

  /** When `start` was sent (this caller's clock): media frame k is due at streamStartedAt + k × 20 ms. */
  get streamStartedAt(): number | undefined {
    return this.clockStartedAt;
  }

  /** Echoes sent so far whose cause is `cause`. */
  echoesBy(cause: EchoCause): EchoEntry[] {
    return this.markers.toArray().filter((e) => e.cause === cause);
  }

  sendConnected(): void {
    const connected = this.wire.connected();
    if (connected !== undefined) this.sendJson(connected);
  }

  /** Sends `connected` + `start` and starts the media clock (done by `connect` unless autoStart is false). */
  sendStart(): void {
    if (this.clockStartedAt !== undefined) throw new Error('fake twilio: start already sent');
    this.sendConnected();
    this.sendJson(this.wire.start(this.ids, this.nextSequence(), { ...this.options.customParameters }, { ...this.options.startOverrides }));
    this.startClock();
    if (this.options.readPaused === true) this.pauseReading();
  }

  sendDtmf(digit: string): void {
    this.sendJson(this.wire.dtmf(this.ids, this.nextSequence(), digit));
  }

  /** A mark echo the server never asked for (forged or stale names). */
  sendMarkEcho(name: string): void {
    this.sendJson(this.wire.markEcho(this.ids, this.nextSequence(), name));
  }

  /** One media frame of raw μ-law bytes outside the clock (for malformed-input tests). */
  sendMediaBytes(bytes: Uint8Array, overrides: Readonly<Record<string, unknown>> = {}): void {
    this.mediaSent++;
    const timestamp = String(Math.round(this.now() - (this.clockStartedAt ?? 0)));
    this.sendJson({ ...this.wire.media(this.ids, this.nextSequence(), String(this.mediaSent), timestamp, Buffer.from(bytes).toString('base64')), ...overrides });
  }

  /** Injects a binary frame (Twilio never sends one). */
  sendBinary(bytes: Uint8Array): void {
    this.sendRaw(bytes);
  }

  /** Stops reading the socket (ws `pause()`): the server's sends back up in its buffers. */
  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  /** Twilio hangs up with `stop`, then a normal close. */
  protected override hangUpMessage(): unknown {
    return this.wire.stop(this.ids, this.nextSequence());
  }

  // ------------------------------------------------------------------------------------------

  private nextSequence(): string {
    this.sequence++;
    return String(this.sequence);
  }

  protected sendFrame(frame: Uint8Array, index: number): void {
    this.mediaSent++;
    this.sendJson(this.wire.media(this.ids, this.nextSequence(), String(this.mediaSent), String(index * 20), Buffer.from(frame).toString('base64')));
  }

  protected onMarkerPlayed(name: string): void {
    this.sendMarkEcho(name);
  }

  protected onBinary(): Handled {
    return { event: 'binary', violation: this.violation('binary-frame', 'server sent a binary frame') };
  }

  /** Reads one server message as the carrier would (twilio-wire.ts), then acts on it. */
  protected onText(text: string, at: number): Handled {
    const msg = this.wire.read(text, this.ids);
    if ('violation' in msg) return { event: msg.event, violation: this.violation(msg.violation, msg.detail) };
    if ('bytes' in msg) {
      const unit = this.wire.mediaUnitBytes;
      if (msg.bytes.length % unit !== 0) this.violation('media-size', `${msg.bytes.length} bytes is not a multiple of ${unit}`);
      this.play(msg.bytes, at);
      return { event: msg.event, bytes: msg.bytes.length };
    }
    if ('name' in msg) {
      if (!this.player.enqueueMark(msg.name, at)) this.violation('too-many-marks', msg.name);
      return { event: msg.event, name: msg.name };
    }
    // Twilio-style `clear`: the marks it returns are echoed at once, in the order the player gives them.
    this.flushAndAcknowledge(at, 'before', () => undefined, (name) => this.sendMarkEcho(name));
    return { event: msg.event };
  }
}
