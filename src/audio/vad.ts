/**
 * Energy + zero-crossing voice activity detector with hysteresis and an adaptive noise floor, for
 * the cascade backend's barge-in and end-of-turn decisions.
 *
 * The signal is band-limited to the speech band (2nd-order high-pass at 200 Hz, and low-pass at
 * 4 kHz above 8 kHz sampling) so rumble, hum and hiss count less than they would full-band, then
 * cut into 10 ms frames. Per frame: level in dBFS and zero-crossing count. A frame is "loud" when
 * its level is `startThresholdDb` above the noise floor; `minSpeechMs` of loud frames start speech
 * (a frame between the two thresholds neither counts nor breaks the run, so one soft frame inside
 * a syllable does not restart the count). Speech ends after `minSilenceMs` of frames below the
 * lower `stopThresholdDb`. The zero-crossing rate marks voiced frames: a frame crossing zero much
 * less often than the noise does (a periodic, low-frequency signal riding on broadband noise) needs
 * `voicedBonusDb` less to count as loud, which is what finds vowels in white noise at 0–5 dB SNR.
 *
 * The noise floor is a quantile tracker on the frame power smoothed over 100 ms: it steps up while
 * the level is above it and down (1 − q)/q times as fast while below, so it settles at the q-th
 * quantile of the noise; it rises only slowly while speaking, so an utterance barely lifts it,
 * while a noise that got louder (or fluctuating babble that started a false speech) is caught up
 * with within seconds. The tuning was chosen on the generated corpus of docs/bench-cascade.md.
 *
 * Where the quantile has nothing to learn from:
 * - The first frame sets the floor. When that is speech (the stream started mid-word), the floor
 *   would fall from the speech's level at the quantile's pace, seconds of deafness, so for
 *   `warmupMs` of audio after it the floor falls as fast as the smoothed level and finds the
 *   pauses between words.
 * - Digital silence (exact zeros: a muted track, a stream before its first audio) says nothing
 *   about the line's noise. A floor past its warm-up, which the line taught, stays where it was
 *   (a floor that sank to −100 dB through a mute took the line's noise, when it came back, for
 *   speech that lasted until the slow in-speech rise caught up: tens of seconds). A floor still
 *   warming up may have been taught by speech alone, so it sinks at the quantile's pace, but no
 *   lower than `minLevelDb − startThresholdDb`, where the gate alone decides; a stream that starts
 *   with digital silence starts there. Such a floor is provisional: speech lifts it at the silence
 *   rate until a quiet frame with signal outside speech confirms it, so if the audio after the
 *   silence was the line's noise, not speech, the false speech ends within seconds.
 *
 * Every piece of state is per sample, and frame boundaries count from the first sample after
 * construction or `reset()`, so events do not depend on how the input is chunked. A frame
 * allocates nothing; an event allocates one small object.
 */
import type { SampleRate } from './format.js';

/** Options of {@link EnergyVad}; every threshold is in dB relative to the adaptive noise floor. */
export interface VadOptions {
  readonly sampleRate: SampleRate;
  /** A frame counts towards speech-start when its level is this far above the noise floor. Default 7.5 dB. */
  readonly startThresholdDb?: number;
  /** A frame counts towards speech-end when its level is below floor + this. Default 4 dB (< start). */
  readonly stopThresholdDb?: number;
  /** Loud audio needed before speech-start fires. Default 40 ms. */
  readonly minSpeechMs?: number;
  /** Quiet audio needed before speech-end fires. Default 500 ms. */
  readonly minSilenceMs?: number;
  /** Frames quieter than this absolute level (dBFS) are never speech. Default −55 dBFS. */
  readonly minLevelDb?: number;
  /** How fast the noise floor may rise outside speech. Default 6 dB/s. */
  readonly floorRiseDbPerSec?: number;
  /** How fast the noise floor may rise during speech (lets a step in noise end a false speech). Default 1.5 dB/s. */
  readonly floorRiseSpeakingDbPerSec?: number;
  /** A frame whose zero-crossing rate is below this fraction of the noise's own rate is voiced-like. Default 0.7. */
  readonly voicedZcrRatio?: number;
  /** A voiced-like frame counts as loud this much below the start threshold. Default 3 dB (0 disables). */
  readonly voicedBonusDb?: number;
  /** Fraction of (smoothed) noise frames the floor settles above: it falls (1 − q)/q times faster than it rises. Default 0.5. */
  readonly floorQuantile?: number;
  /** The noise floor follows the frame power smoothed over this long, so brief dips in fluctuating noise (babble) do not drag it down. Default 100 ms. */
  readonly floorSmoothingMs?: number;
  /** For this long after the first frame that is not digital silence, the floor falls without a rate limit. Default 1 000 ms. */
  readonly warmupMs?: number;
}

/** What the detector reports. Times are in ms of audio since construction or `reset()`. */
export type VadEvent =
  /** `atMs`: when the decision was made (end of the confirming frame); `onsetMs`: where the loud run began. */
  | { readonly type: 'speech-start'; readonly atMs: number; readonly onsetMs: number }
  /** `atMs`: when the decision was made; `speechMs`: from onset to the end of the last speech frame. */
  | { readonly type: 'speech-end'; readonly atMs: number; readonly speechMs: number };

/** Length of one analysis frame. */
export const VAD_FRAME_MS = 10;

const SILENCE_DB = -100;
/** Filter state below this (in sample units, ≈ −390 dBFS) is set to 0 at a frame's end. */
const SUBNORMAL_GUARD = 1e-15;
/** Weight of a quiet frame in the noise's zero-crossing average: time constant ≈ 200 ms. */
const NOISE_ZCR_WEIGHT = 0.05;

type VadState = 'silence' | 'speech';

interface Biquad {
  b0: number; b1: number; b2: number; a1: number; a2: number;
  x1: number; x2: number; y1: number; y2: number;
}

/** RBJ cookbook 2nd-order Butterworth section (Q = 1/√2). */
function biquad(kind: 'highpass' | 'lowpass', freq: number, sampleRate: number): Biquad {
  const w = (2 * Math.PI * freq) / sampleRate;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  const b1 = kind === 'highpass' ? -(1 + cos) : 1 - cos;
  const b0 = kind === 'highpass' ? (1 + cos) / 2 : (1 - cos) / 2;
  return {
    b0: b0 / a0, b1: b1 / a0, b2: b0 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0,
    x1: 0, x2: 0, y1: 0, y2: 0,
  };
}

/** Stands in for the low-pass at 8 kHz, where the band already ends at 4 kHz: never applied nor written. */
const PASS_THROUGH: Biquad = { b0: 1, b1: 0, b2: 0, a1: 0, a2: 0, x1: 0, x2: 0, y1: 0, y2: 0 };

function clearBiquad(f: Biquad): void {
  f.x1 = 0; f.x2 = 0; f.y1 = 0; f.y2 = 0;
}

/**
 * Streaming energy VAD. Feed PCM16 in any chunking with {@link EnergyVad.process}; it returns the
 * events the chunk completed, in order.
 */
export class EnergyVad {
  readonly sampleRate: SampleRate;
  private readonly startDb: number;
  private readonly stopDb: number;
  private readonly minLevelDb: number;
  private readonly minSpeechFrames: number;
  private readonly minSilenceFrames: number;
  private readonly riseSilence: number;
  private readonly riseSpeaking: number;
  /** Fall step per rise step: (1 − q)/q for the quantile q. */
  private readonly fallPerRise: number;
  private readonly voicedZcrRatio: number;
  private readonly voicedBonusDb: number;
  /** Zero crossings per frame of the noise (smoothed over quiet frames); NaN until the first frame. */
  private noiseCrossings = Number.NaN;
  private readonly frameLength: number;
  /** Weight of a new frame in the smoothed power the floor follows. */
  private readonly smoothing: number;
  private smoothedPower = Number.NaN;
  private readonly warmupFrames: number;
  /** Frames since the floor was first set (counting stops past the warm-up). */
  private framesWithFloor = 0;
  /** The floor came from digital silence (a stream's start, or a sink during the warm-up), and no quiet frame with signal outside speech has confirmed it yet. */
  private provisional = false;
  private readonly highpass: Biquad;
  private readonly lowpass: Biquad | undefined;
  /** Returned by `process()`, cleared on each call: one array for the detector's life. */
  private readonly events: VadEvent[] = [];

  private state: VadState = 'silence';
  private frameIndex = 0;
  private inFrame = 0;
  private sumSquares = 0;
  private crossings = 0;
  private lastPositive = false;
  private level = SILENCE_DB;
  private floor = Number.NaN;
  /** Loud frames in the current run (silence state). */
  private loudRun = 0;
  /** Frame index where the current loud run (or speech) began. */
  private runStartFrame = 0;
  /** Quiet frames in a row (speech state). */
  private quietRun = 0;
  /** Frame index just after the last frame above the stop threshold. */
  private lastSpeechEndFrame = 0;

  constructor(options: VadOptions) {
    const o = options;
    this.sampleRate = o.sampleRate;
    this.startDb = o.startThresholdDb ?? 7.5;
    this.stopDb = o.stopThresholdDb ?? 4;
    if (!(this.stopDb <= this.startDb)) throw new RangeError('stopThresholdDb must not exceed startThresholdDb');
    this.minLevelDb = o.minLevelDb ?? -55;
    this.minSpeechFrames = Math.max(1, Math.round((o.minSpeechMs ?? 40) / VAD_FRAME_MS));
    this.minSilenceFrames = Math.max(1, Math.round((o.minSilenceMs ?? 500) / VAD_FRAME_MS));
    this.riseSilence = ((o.floorRiseDbPerSec ?? 6) * VAD_FRAME_MS) / 1000;
    this.riseSpeaking = ((o.floorRiseSpeakingDbPerSec ?? 1.5) * VAD_FRAME_MS) / 1000;
    const q = o.floorQuantile ?? 0.5;
    if (!(q > 0 && q < 1)) throw new RangeError('floorQuantile must be within (0, 1)');
    this.fallPerRise = (1 - q) / q;
    this.voicedZcrRatio = o.voicedZcrRatio ?? 0.7;
    this.voicedBonusDb = o.voicedBonusDb ?? 3;
    this.frameLength = (o.sampleRate * VAD_FRAME_MS) / 1000;
    this.smoothing = Math.min(1, VAD_FRAME_MS / Math.max(VAD_FRAME_MS, o.floorSmoothingMs ?? 100));
    this.warmupFrames = Math.round((o.warmupMs ?? 1000) / VAD_FRAME_MS);
    this.highpass = biquad('highpass', 200, o.sampleRate);
    this.lowpass = o.sampleRate > 8000 ? biquad('lowpass', 4000, o.sampleRate) : undefined;
  }

  /** True between a speech-start and the following speech-end. */
  get speaking(): boolean {
    return this.state === 'speech';
  }

  /** Level of the last complete frame, dBFS of the band-limited signal (−100 for digital silence). */
  get levelDb(): number {
    return this.level;
  }

  /** Current noise-floor estimate in dBFS (NaN before the first frame; minLevelDb − startThresholdDb after digital silence, until audio teaches it). */
  get noiseFloorDb(): number {
    return this.floor;
  }

  /**
   * Feeds PCM16 mono samples. Returns the events completed by this chunk, in order, in an array
   * that the next call reuses (copy it to keep it).
   */
  process(samples: Int16Array): VadEvent[] {
    this.events.length = 0;
    // Filter state in locals for the inner loop (written back at frame ends and on return), so the
    // per-sample work is a few multiply-adds rather than property traffic.
    const hp = this.highpass;
    const lp = this.lowpass ?? PASS_THROUGH;
    const bypassLowpass = this.lowpass === undefined;
    let hx1 = hp.x1, hx2 = hp.x2, hy1 = hp.y1, hy2 = hp.y2;
    let lx1 = lp.x1, lx2 = lp.x2, ly1 = lp.y1, ly2 = lp.y2;
    let sum = this.sumSquares;
    let crossings = this.crossings;
    let lastPositive = this.lastPositive;
    let inFrame = this.inFrame;
    const frameLength = this.frameLength;
    for (let i = 0; i < samples.length; i++) {
      const x0 = samples[i]!;
      let y = hp.b0 * x0 + hp.b1 * hx1 + hp.b2 * hx2 - hp.a1 * hy1 - hp.a2 * hy2;
      hx2 = hx1; hx1 = x0; hy2 = hy1; hy1 = y;
      if (!bypassLowpass) {
        const z = lp.b0 * y + lp.b1 * lx1 + lp.b2 * lx2 - lp.a1 * ly1 - lp.a2 * ly2;
        lx2 = lx1; lx1 = y; ly2 = ly1; ly1 = z;
        y = z;
      }
      sum += y * y;
      const positive = y >= 0;
      if (positive !== lastPositive) crossings++;
      lastPositive = positive;
      if (++inFrame === frameLength) {
        // Fed exact zeros (digital silence), a filter's state decays into subnormal numbers, which
        // cost x86 about a hundred times a normal multiply-add: far below any audible level, snap it to 0.
        if (Math.abs(hy1) + Math.abs(hy2) < SUBNORMAL_GUARD) { hy1 = 0; hy2 = 0; }
        if (Math.abs(ly1) + Math.abs(ly2) + Math.abs(lx1) + Math.abs(lx2) < SUBNORMAL_GUARD) { lx1 = 0; lx2 = 0; ly1 = 0; ly2 = 0; }
        this.sumSquares = sum;
        this.crossings = crossings;
        this.endFrame();
        sum = 0;
        crossings = 0;
        inFrame = 0;
      }
    }
    hp.x1 = hx1; hp.x2 = hx2; hp.y1 = hy1; hp.y2 = hy2;
    if (!bypassLowpass) {
      lp.x1 = lx1; lp.x2 = lx2; lp.y1 = ly1; lp.y2 = ly2;
    }
    this.sumSquares = sum;
    this.crossings = crossings;
    this.lastPositive = lastPositive;
    this.inFrame = inFrame;
    return this.events;
  }

  /** Forgets everything (new call, or a stream that restarted): time starts again at 0. */
  reset(): void {
    clearBiquad(this.highpass);
    if (this.lowpass !== undefined) clearBiquad(this.lowpass);
    this.events.length = 0;
    this.state = 'silence';
    this.frameIndex = 0;
    this.inFrame = 0;
    this.sumSquares = 0;
    this.crossings = 0;
    this.lastPositive = false;
    this.level = SILENCE_DB;
    this.floor = Number.NaN;
    this.smoothedPower = Number.NaN;
    this.framesWithFloor = 0;
    this.provisional = false;
    this.noiseCrossings = Number.NaN;
    this.loudRun = 0;
    this.runStartFrame = 0;
    this.quietRun = 0;
    this.lastSpeechEndFrame = 0;
  }

  private endFrame(): void {
    const meanSquare = this.sumSquares / (this.frameLength * 32768 * 32768);
    const level = meanSquare > 1e-10 ? 10 * Math.log10(meanSquare) : SILENCE_DB;
    const crossings = this.crossings;
    this.level = level;
    this.sumSquares = 0;
    this.crossings = 0;
    this.inFrame = 0;
    const frame = this.frameIndex++;
    const digitalSilence = level === SILENCE_DB;

    if (Number.isNaN(this.floor)) this.floor = digitalSilence ? this.lowestFloorDb : level;
    if (!digitalSilence && Number.isNaN(this.smoothedPower)) {
      this.smoothedPower = meanSquare;
      this.noiseCrossings = crossings;
    }
    const floor = this.floor;
    const audible = level >= this.minLevelDb;
    const voiced = crossings < this.noiseCrossings * this.voicedZcrRatio;
    const loud = audible && level >= floor + this.startDb - (voiced ? this.voicedBonusDb : 0);
    const quiet = !audible || level < floor + this.stopDb;

    if (this.state === 'silence') this.silenceFrame(frame, loud, quiet);
    else this.speechFrame(frame, quiet);
    if (digitalSilence) {
      if (this.framesWithFloor < this.warmupFrames) this.sinkThroughSilence();
      return;
    }
    if (quiet) {
      this.noiseCrossings += (crossings - this.noiseCrossings) * NOISE_ZCR_WEIGHT;
      // A quiet frame outside speech: the floor has met the line.
      if (this.state === 'silence') this.provisional = false;
    }
    this.smoothedPower += (meanSquare - this.smoothedPower) * this.smoothing;
    this.trackFloor(this.smoothedPower > 1e-10 ? 10 * Math.log10(this.smoothedPower) : SILENCE_DB);
  }

  private silenceFrame(frame: number, loud: boolean, quiet: boolean): void {
    if (loud) {
      if (this.loudRun === 0) this.runStartFrame = frame;
      if (++this.loudRun >= this.minSpeechFrames) {
        this.state = 'speech';
        this.quietRun = 0;
        this.lastSpeechEndFrame = frame + 1;
        this.events.push({
          type: 'speech-start',
          atMs: (frame + 1) * VAD_FRAME_MS,
          onsetMs: this.runStartFrame * VAD_FRAME_MS,
        });
      }
    } else if (quiet) {
      this.loudRun = 0;
    }
  }

  private speechFrame(frame: number, quiet: boolean): void {
    if (!quiet) {
      this.quietRun = 0;
      this.lastSpeechEndFrame = frame + 1;
      return;
    }
    if (++this.quietRun < this.minSilenceFrames) return;
    this.state = 'silence';
    this.loudRun = 0;
    this.events.push({
      type: 'speech-end',
      atMs: (frame + 1) * VAD_FRAME_MS,
      speechMs: (this.lastSpeechEndFrame - this.runStartFrame) * VAD_FRAME_MS,
    });
  }

  /** Lowest the floor sinks through digital silence: there the gate alone decides what is loud. */
  private get lowestFloorDb(): number {
    return this.minLevelDb - this.startDb;
  }

  /** A floor still warming up, in digital silence: down at the quantile's pace, to no lower than where the gate decides alone. */
  private sinkThroughSilence(): void {
    const lowest = this.lowestFloorDb;
    if (this.floor > lowest) this.floor = Math.max(lowest, this.floor - this.riseSilence * this.fallPerRise);
    this.provisional = true;
  }

  /**
   * Quantile tracking: a fixed step up when the smoothed level is above the floor, (1 − q)/q steps
   * down when below, so the floor settles where a fraction q of the noise is quieter. Slower while
   * speaking, so an utterance barely lifts it; never past the level itself. During the warm-up
   * it falls straight to the level.
   */
  private trackFloor(level: number): void {
    const floor = this.floor;
    const rise = this.state === 'speech' && !this.provisional ? this.riseSpeaking : this.riseSilence;
    const warmingUp = this.framesWithFloor < this.warmupFrames;
    if (warmingUp) this.framesWithFloor++;
    this.floor = level >= floor ? Math.min(level, floor + rise) : warmingUp ? level : Math.max(level, floor - rise * this.fallPerRise);
  }
}
