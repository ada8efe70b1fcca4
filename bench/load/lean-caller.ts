/**
 * A Twilio caller cut down for load: the same protocol as test/fakes/twilio-caller.ts (connected,
 * start, 20 ms `media` frames in real time, plays what it gets in real time with the same
 * TwilioPlayer model, echoes each mark when the audio before it has played, echoes pending marks on
 * `clear`, checks every server message with the same strict reader, twilio-wire.ts), but built for
 * a thousand of them in one process:
 *
 * - no timer of its own: a {@link CallerFleet} ticks every caller from ONE interval;
 * - outgoing messages from string templates (no object, no JSON.stringify per frame), silence and the
 *   question's frames base64-encoded once for all callers;
 * - a zero WebSocket mask (ws then skips the XOR; servers do not check masks), so masking costs nothing,
 *   and the frames of `media` and mark echoes written straight to the socket (ws-frames.ts: the bytes
 *   `ws` would send, one write call each);
 * - the strict reader's fast path for the compact `media`/`mark` layout (TwilioServerReader: same
 *   verdicts, no JSON.parse or regex per message);
 * - the player advanced only when its playing chunk ends (TwilioPlayer.headEndsBy): the same echoes
 *   and dry periods, without touching every player every tick;
 * - counters and a small ring of dry periods instead of logs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import alawmulaw from 'alawmulaw';
import { WebSocket, type RawData } from 'ws';
import { TwilioPlayer, type DryPeriod } from '../../test/fakes/twilio-player.js';
import { TwilioServerReader } from '../../test/fakes/twilio-wire.js';
import { DirectTextWriter } from './ws-frames.js';

const FRAME_MS = 20;
const FRAME_BYTES = 160;
/** Length of the question each caller asks (a 440 Hz tone the fake model's VAD hears). */
export const QUESTION_MS = 400;

/** One 20 ms μ-law frame of silence, base64 (0xFF × 160). */
const SILENCE_B64 = Buffer.alloc(FRAME_BYTES, 0xff).toString('base64');

function tone(ms: number): Int16Array {
  const samples = new Int16Array(ms * 8);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return samples;
}

/** The question as base64 μ-law frames, encoded once (alawmulaw: shares no code with the gateway). */
const QUESTION_B64: readonly string[] = (() => {
  const mulaw = alawmulaw.mulaw.encode(tone(QUESTION_MS));
  const frames: string[] = [];
  for (let at = 0; at < mulaw.length; at += FRAME_BYTES) frames.push(Buffer.from(mulaw.subarray(at, at + FRAME_BYTES)).toString('base64'));
  return frames;
})();

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** One caller; driven by its fleet's tick. */
export class LeanCaller {
  readonly streamSid = sid('MZ');
  private readonly callSid = sid('CA');
  private readonly accountSid = sid('AC');
  readonly player: TwilioPlayer;
  private readonly reader = new TwilioServerReader(this.streamSid);
  private readonly writer: DirectTextWriter;
  private sequence = 0;
  private framesSent = 0;
  private clockStartedAt = 0;
  /** Index into QUESTION_B64 while asking; -1 otherwise. */
  private questionFrame = -1;
  /** Messages received (media, mark, clear), and protocol violations seen. */
  received = 0;
  violations = 0;
  lastViolation = '';
  maxBufferedMs = 0;
  /** μ-law bytes received in `media` messages. */
  audioReceivedBytes = 0;
  closedAt: number | undefined;

  constructor(private readonly ws: WebSocket) {
    this.player = new TwilioPlayer({ onEcho: (echo) => this.sendMarkEcho(echo.name), playedAudioCap: 1 });
    this.writer = new DirectTextWriter(ws, true);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.closedAt = performance.now();
    });
    ws.on('error', () => undefined);
  }

  /** Opens the socket; resolves once open (or rejects after `timeoutMs`). */
  static async connect(url: string, timeoutMs: number): Promise<LeanCaller> {
    const ws = new WebSocket(url, { perMessageDeflate: false, generateMask: zeroMask });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`lean caller: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const caller = new LeanCaller(ws);
    caller.sendStart();
    return caller;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get dryPeriods(): readonly DryPeriod[] {
    return this.player.dryPeriods.toArray();
  }

  /** Starts speaking the question with the next frame. */
  ask(): void {
    this.questionFrame = 0;
  }

  /** Sends the frames due by `now` and plays what is due (echoing marks). */
  tick(now: number): void {
    if (!this.isOpen) return;
    const due = Math.floor((now - this.clockStartedAt) / FRAME_MS);
    while (this.framesSent < due) this.sendFrame();
    if (this.player.headEndsBy(now)) this.player.advance(now);
  }

  /** Twilio hangs up: `stop`, then a normal close. */
  hangUp(): void {
    if (!this.isOpen) return;
    this.sequence++;
    this.ws.send(`{"event":"stop","sequenceNumber":"${this.sequence}","streamSid":"${this.streamSid}","stop":{"accountSid":"${this.accountSid}","callSid":"${this.callSid}"}}`);
    this.ws.close(1000);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private sendStart(): void {
    this.ws.send('{"event":"connected","protocol":"Call","version":"1.0.0"}');
    this.sequence++;
    this.ws.send(
      `{"event":"start","sequenceNumber":"${this.sequence}","start":{"accountSid":"${this.accountSid}","streamSid":"${this.streamSid}","callSid":"${this.callSid}",` +
        `"tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{}},"streamSid":"${this.streamSid}"}`,
    );
    this.clockStartedAt = performance.now();
  }

  private sendFrame(): void {
    let payload = SILENCE_B64;
    if (this.questionFrame >= 0) {
      payload = QUESTION_B64[this.questionFrame++] ?? SILENCE_B64;
      if (this.questionFrame >= QUESTION_B64.length) this.questionFrame = -1;
    }
    const index = this.framesSent++;
    this.sequence++;
    // ASCII by construction: hex sids, digits, base64.
    this.writer.send(
      `{"event":"media","sequenceNumber":"${this.sequence}","media":{"track":"inbound","chunk":"${index + 1}","timestamp":"${index * FRAME_MS}","payload":"${payload}"},"streamSid":"${this.streamSid}"}`,
    );
  }

  private sendMarkEcho(name: string): void {
    if (!this.isOpen) return;
    this.sequence++;
    this.writer.sendText(`{"event":"mark","sequenceNumber":"${this.sequence}","streamSid":"${this.streamSid}","mark":{"name":${JSON.stringify(name)}}}`);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const at = performance.now();
    this.received++;
    if (isBinary) return this.violation('binary-frame');
    const msg = this.reader.read(rawText(data));
    if ('violation' in msg) return this.violation(msg.violation);
    if ('bytes' in msg) {
      this.audioReceivedBytes += msg.bytes.length;
      this.player.enqueueAudio(msg.bytes, at);
    }
    else if ('name' in msg) {
      if (!this.player.enqueueMark(msg.name, at)) this.violation('too-many-marks');
    } else this.player.clear(at);
    this.maxBufferedMs = Math.max(this.maxBufferedMs, this.player.bufferedMs);
  }

  private violation(kind: string): void {
    this.violations++;
    this.lastViolation = kind;
  }
}

/** Many callers, one timer: every `tickMs` each caller sends its due frames and plays. */
export class CallerFleet {
  readonly callers: LeanCaller[] = [];
  private timer: NodeJS.Timeout | undefined;
  private rounds: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 10) {}

  /** Connects `count` callers to `url`, `batch` at a time (a burst of N upgrades would measure the ramp). */
  async connect(url: string, count: number, batch = 20): Promise<void> {
    this.start();
    for (let first = 0; first < count; first += batch) {
      const n = Math.min(batch, count - first);
      this.callers.push(...(await Promise.all(Array.from({ length: n }, () => LeanCaller.connect(url, 10_000)))));
    }
  }

  private start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const caller of this.callers) caller.tick(now);
    }, this.tickMs);
  }

  /**
   * Every caller asks its question, the starts spread evenly over `spreadMs`; with `everyMs`, again
   * every `everyMs` (the soak's turns), until `stop`.
   */
  askSpread(spreadMs: number, everyMs?: number): void {
    this.askRound(spreadMs);
    if (everyMs !== undefined) this.rounds = setInterval(() => this.askRound(spreadMs), everyMs);
  }

  private askRound(spreadMs: number): void {
    const step = this.callers.length > 1 ? spreadMs / (this.callers.length - 1) : 0;
    const t0 = performance.now();
    let next = 0;
    const asker = setInterval(() => {
      const now = performance.now();
      while (next < this.callers.length && t0 + next * step <= now) this.callers[next++]?.ask();
      if (next >= this.callers.length) clearInterval(asker);
    }, this.tickMs);
  }

  stop(): void {
    clearInterval(this.rounds);
    clearInterval(this.timer);
    this.timer = undefined;
    for (const caller of this.callers) caller.hangUp();
  }
}
