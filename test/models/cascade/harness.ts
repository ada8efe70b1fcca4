/**
 * A scripted stand-in for the lead's call session, to drive CascadeSession directly: it records
 * every ModelEvents call in order, plays model audio with a paced fake player (a bounded buffer
 * drained at `speed` × real time, whose `audio()` promise waits while it is full — the session's
 * backpressure), reports each sentence as played once its last frame has played
 * (`sentencePlayed`), and on `speechStarted` interrupts with what was heard, as the session does.
 *
 * Also: a fake TTS (sine bursts proportional to text length), a deterministic fake VAD, and
 * caller audio frames.
 */
import { encodeMulaw } from '../../../src/audio/mulaw.js';
import { FRAME_MS, msToSamples, type AudioFormat } from '../../../src/audio/format.js';
import type { VoicewireError } from '../../../src/errors.js';
import { HEARD_PENDING, type ModelAudio, type ModelEvents } from '../../../src/models/model.js';
import type { CascadeSession } from '../../../src/models/cascade/cascade-session.js';
import type { VadEvent, VoiceActivityDetector } from '../../../src/models/cascade/listener.js';
import type { SynthesisOptions, TextToSpeech } from '../../../src/models/cascade/tts.js';
import { sleep } from '../../../src/models/cascade/abortable.js';

export type Recorded =
  | { type: 'speechStarted' }
  | { type: 'speechStopped' }
  | { type: 'responseStarted'; responseId: string }
  | { type: 'audio'; responseId: string; sentenceId: number; durationMs: number; bytes: number }
  | { type: 'sentenceEnd'; responseId: string; sentenceId: number }
  | { type: 'sentencePlayed'; responseId: string; sentenceId: number }
  | { type: 'responseDone'; responseId: string; status: string }
  | { type: 'transcript'; responseId: string; text: string }
  | { type: 'error'; code: string; stage: string | undefined; error: VoicewireError }
  | { type: 'closed'; reason: string }
  | { type: 'interrupt'; itemId: string | undefined; audioEndMs: number | undefined };

interface Buffered {
  readonly responseId: string;
  readonly sentenceId: number;
  remainingMs: number;
  readonly end: boolean;
}

export interface HarnessOptions {
  /** Player buffer (ms): `audio()` waits while this much is buffered. Default 400. */
  readonly bufferMs?: number;
  /** Virtual playback speed (× real time). Default 10. */
  readonly speed?: number;
  /** Report played sentences (false: ACKs never come). Default true. */
  readonly acks?: boolean;
  /** Interrupt on speechStarted like the session. Default true. */
  readonly autoInterrupt?: boolean;
  /** Interrupt with HEARD_PENDING (what was heard follows in `heard()`, called by the test). Default false. */
  readonly pendingHeard?: boolean;
}

export class Harness implements ModelEvents {
  readonly log: Recorded[] = [];
  cascade: CascadeSession | undefined;
  private readonly buffer: Buffered[] = [];
  private readonly waiting: Array<{ ms: number; resolve: () => void }> = [];
  private readonly watchers = new Set<() => void>();
  private readonly playedOf = new Map<string, number>();
  private activeResponse: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private last = Date.now();
  readonly bufferMs: number;
  readonly speed: number;
  acks: boolean;
  private readonly autoInterrupt: boolean;
  private readonly pendingHeard: boolean;
  /** What was heard at the last interrupt (for a test to pass to `heard()` later). */
  lastHeard: { itemId: string; audioEndMs: number } | undefined;

  constructor(options: HarnessOptions = {}) {
    this.bufferMs = options.bufferMs ?? 400;
    this.speed = options.speed ?? 10;
    this.acks = options.acks ?? true;
    this.autoInterrupt = options.autoInterrupt ?? true;
    this.pendingHeard = options.pendingHeard ?? false;
    this.timer = setInterval(() => this.tick(), 5);
  }

  attachTo(cascade: CascadeSession): void {
    this.cascade = cascade;
    cascade.attach(this);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const w of this.waiting.splice(0)) w.resolve();
  }

  // ModelEvents ---------------------------------------------------------------------------------

  speechStarted(): void {
    this.push({ type: 'speechStarted' });
    if (!this.autoInterrupt) return;
    const playing = this.buffer[0]?.responseId ?? this.activeResponse;
    if (playing === undefined && this.buffer.length === 0) return;
    const heard = playing === undefined ? undefined : { itemId: playing, audioEndMs: this.playedOf.get(playing) ?? 0 };
    this.buffer.length = 0;
    for (const w of this.waiting.splice(0)) w.resolve();
    this.push({ type: 'interrupt', itemId: heard?.itemId, audioEndMs: heard?.audioEndMs });
    this.lastHeard = heard;
    this.cascade?.interrupt(this.pendingHeard ? HEARD_PENDING : heard);
  }

  speechStopped(): void {
    this.push({ type: 'speechStopped' });
  }

  responseStarted(responseId: string): void {
    this.activeResponse = responseId;
    this.push({ type: 'responseStarted', responseId });
  }

  audio(chunk: ModelAudio): Promise<void> {
    this.push({ type: 'audio', responseId: chunk.responseId, sentenceId: chunk.sentenceId, durationMs: chunk.durationMs, bytes: chunk.bytes.length });
    this.buffer.push({ responseId: chunk.responseId, sentenceId: chunk.sentenceId, remainingMs: chunk.durationMs, end: false });
    if (this.bufferedMs() <= this.bufferMs) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ ms: chunk.durationMs, resolve }));
  }

  sentenceEnd(responseId: string, sentenceId: number): void {
    this.push({ type: 'sentenceEnd', responseId, sentenceId });
    this.buffer.push({ responseId, sentenceId, remainingMs: 0, end: true });
  }

  responseDone(responseId: string, status: string): void {
    if (this.activeResponse === responseId) this.activeResponse = undefined;
    this.push({ type: 'responseDone', responseId, status });
  }

  transcript(responseId: string, text: string): void {
    this.push({ type: 'transcript', responseId, text });
  }

  error(error: VoicewireError): void {
    this.push({ type: 'error', code: error.code, stage: (error as { stage?: string }).stage, error });
  }

  closed(reason: string): void {
    this.push({ type: 'closed', reason });
  }

  // Queries ---------------------------------------------------------------------------------------

  /** Resolves when `predicate` holds (checked at every event and player tick), else rejects. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`harness: timed out after ${timeoutMs} ms waiting for ${what}\n${this.summary()}`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  done(responseId: string): Extract<Recorded, { type: 'responseDone' }> | undefined {
    return this.log.find((e): e is Extract<Recorded, { type: 'responseDone' }> => e.type === 'responseDone' && e.responseId === responseId);
  }

  responses(): string[] {
    return this.log.flatMap((e) => (e.type === 'responseStarted' ? [e.responseId] : []));
  }

  /** The text of `responseId` as transcribed sentence by sentence. */
  said(responseId: string): string {
    return this.log.flatMap((e) => (e.type === 'transcript' && e.responseId === responseId ? [e.text] : [])).join(' ');
  }

  summary(): string {
    return this.log
      .filter((e) => e.type !== 'audio')
      .map((e) => JSON.stringify(e, (k, v: unknown) => (k === 'error' ? undefined : v)))
      .slice(-40)
      .join('\n');
  }

  bufferedMs(): number {
    return this.buffer.reduce((sum, b) => sum + b.remainingMs, 0);
  }

  // Player ----------------------------------------------------------------------------------------

  private push(entry: Recorded): void {
    this.log.push(entry);
    for (const check of [...this.watchers]) check();
  }

  private tick(): void {
    const now = Date.now();
    let budget = (now - this.last) * this.speed;
    this.last = now;
    while (this.buffer.length > 0) {
      const head = this.buffer[0]!;
      if (head.end) {
        this.buffer.shift();
        if (this.acks) {
          this.push({ type: 'sentencePlayed', responseId: head.responseId, sentenceId: head.sentenceId });
          this.cascade?.sentencePlayed(head.sentenceId);
        }
        continue;
      }
      if (budget <= 0) break;
      const take = Math.min(budget, head.remainingMs);
      head.remainingMs -= take;
      budget -= take;
      this.playedOf.set(head.responseId, (this.playedOf.get(head.responseId) ?? 0) + take);
      if (head.remainingMs <= 0) this.buffer.shift();
    }
    while (this.waiting.length > 0 && this.bufferedMs() <= this.bufferMs) this.waiting.shift()?.resolve();
    for (const check of [...this.watchers]) check();
  }
}

/** A TTS that yields a sine burst of `msPerChar` per character, in 100 ms chunks, after `delayMs`. */
export class FakeTts implements TextToSpeech {
  readonly name = 'fake-tts';
  readonly calls: Array<{ text: string; aborted: boolean; completed: boolean }> = [];
  delayMs: number;
  failAfter: number | undefined;

  constructor(
    readonly sampleRate: number = 24000,
    private readonly msPerChar = 10,
    options: { delayMs?: number; failAfter?: number } = {},
  ) {
    this.delayMs = options.delayMs ?? 0;
    this.failAfter = options.failAfter;
  }

  async *synthesize(text: string, options: SynthesisOptions = {}): AsyncIterable<Int16Array> {
    const call = { text, aborted: false, completed: false };
    this.calls.push(call);
    try {
      if (this.failAfter !== undefined && this.calls.length > this.failAfter) throw new Error('fake TTS failure');
      if (this.delayMs > 0) await sleep(this.delayMs, options.signal);
      const total = msToSamples(this.sampleRate, text.trim().length * this.msPerChar);
      const chunk = msToSamples(this.sampleRate, 100);
      for (let at = 0; at < total; at += chunk) {
        if (options.signal?.aborted) throw options.signal.reason;
        const n = Math.min(chunk, total - at);
        const out = new Int16Array(n);
        for (let i = 0; i < n; i++) out[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * (at + i)) / this.sampleRate));
        yield out;
      }
      call.completed = true;
    } catch (err) {
      call.aborted = options.signal?.aborted ?? false;
      throw err;
    }
  }
}

/** A deterministic VAD: a chunk with RMS above `threshold` is speech; `silenceMs` of quiet ends it. */
export class FakeVad implements VoiceActivityDetector {
  private positionMs = 0;
  private speakingFlag = false;
  private onsetMs = 0;
  private quietMs = 0;
  private lastLoudMs = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly silenceMs = 100,
    private readonly threshold = 1000,
  ) {}

  get speaking(): boolean {
    return this.speakingFlag;
  }

  process(samples: Int16Array): VadEvent[] {
    const ms = (samples.length * 1000) / this.sampleRate;
    let sum = 0;
    for (const s of samples) sum += s * s;
    const loud = samples.length > 0 && Math.sqrt(sum / samples.length) > this.threshold;
    const start = this.positionMs;
    this.positionMs += ms;
    const events: VadEvent[] = [];
    if (loud) {
      this.quietMs = 0;
      this.lastLoudMs = this.positionMs;
      if (!this.speakingFlag) {
        this.speakingFlag = true;
        this.onsetMs = start;
        events.push({ type: 'speech-start', atMs: this.positionMs, onsetMs: start });
      }
    } else if (this.speakingFlag) {
      this.quietMs += ms;
      if (this.quietMs >= this.silenceMs) {
        this.speakingFlag = false;
        events.push({ type: 'speech-end', atMs: this.positionMs, speechMs: this.lastLoudMs - this.onsetMs });
      }
    }
    return events;
  }

  reset(): void {
    this.positionMs = 0;
    this.speakingFlag = false;
    this.quietMs = 0;
  }
}

/** 20 ms caller frames in `format`: a 300 Hz tone (speech) or silence. */
export function callerFrames(format: AudioFormat, ms: number, loud: boolean): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const n = msToSamples(format.sampleRate, FRAME_MS);
  let phase = 0;
  for (let t = 0; t < ms; t += FRAME_MS) {
    const pcm = new Int16Array(n);
    for (let i = 0; i < n; i++) pcm[i] = loud ? Math.round(8000 * Math.sin((2 * Math.PI * 300 * phase++) / format.sampleRate)) : 0;
    if (format.encoding === 'pcmu') {
      const out = new Uint8Array(n);
      encodeMulaw(pcm, out);
      frames.push(out);
    } else {
      frames.push(new Uint8Array(pcm.buffer));
    }
  }
  return frames;
}

/** Feeds speech then silence to `cascade` (the VAD clock is audio time, so no pacing is needed). */
export function speak(cascade: CascadeSession, format: AudioFormat, speechMs: number, silenceMs = 200): void {
  for (const frame of callerFrames(format, speechMs, true)) cascade.appendAudio(frame, FRAME_MS);
  for (const frame of callerFrames(format, silenceMs, false)) cascade.appendAudio(frame, FRAME_MS);
}

/** Starts speech without ending it (a barge-in). */
export function startSpeaking(cascade: CascadeSession, format: AudioFormat, ms = 60): void {
  for (const frame of callerFrames(format, ms, true)) cascade.appendAudio(frame, FRAME_MS);
}

/** Samples `probe` every few ms until stopped; returns every sample. */
export function sampler<T>(probe: () => T, everyMs = 5): { samples: T[]; stop: () => void } {
  const samples: T[] = [];
  const timer = setInterval(() => samples.push(probe()), everyMs);
  return { samples, stop: () => clearInterval(timer) };
}
