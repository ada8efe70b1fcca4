/**
 * Main-thread side of the player: an AudioContext at the playback wire rate (no resampling in our
 * code; the browser converts to the device rate), the player worklet, and the messages between
 * them. Measures the barge-in → silence time of each `clear` on the audio clock.
 */
import type { FromPlayer, PlayerStatus, ToPlayer } from './worklet-messages.js';
import { PLAYER_PROCESSOR } from './worklet-messages.js';

export interface AudioPlayerHandlers {
  played(epoch: number, playedMs: number): void;
  sentencePlayed(epoch: number, sentenceId: number): void;
  /** A clear dropped `droppedMs`; the old audio went silent `silenceMs` after the clear arrived. */
  cleared(epoch: number, droppedMs: number, silenceMs: number | undefined): void;
  playing(playing: boolean): void;
  status(status: PlayerStatus): void;
}

export interface AudioPlayerOptions {
  /**
   * A context at the playback wire rate, created (and resumed) synchronously in the user's gesture
   * so autoplay policies let it start; the player owns it from here on.
   */
  readonly context: AudioContext;
  /** URL of player-worklet.js. */
  readonly workletUrl: string | URL;
  readonly handlers: AudioPlayerHandlers;
}

/** Clears whose arrival time is remembered until the worklet reports them (bounded). */
const MAX_PENDING_CLEARS = 16;

export class AudioPlayer {
  readonly context: AudioContext;
  private readonly node: AudioWorkletNode;
  private readonly handlers: AudioPlayerHandlers;
  private gen = 0;
  private readonly clearArrivals = new Map<number, { readonly perfMs: number; readonly contextTime: number }>();

  private constructor(context: AudioContext, node: AudioWorkletNode, handlers: AudioPlayerHandlers) {
    this.context = context;
    this.node = node;
    this.handlers = handlers;
    node.port.onmessage = (event: MessageEvent<FromPlayer>) => this.onWorkletMessage(event.data);
  }

  /** Loads the worklet into `options.context` and connects it to the output. */
  static async create(options: AudioPlayerOptions): Promise<AudioPlayer> {
    const context = options.context;
    try {
      await context.audioWorklet.addModule(String(options.workletUrl));
      const node = new AudioWorkletNode(context, PLAYER_PROCESSOR, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
      node.connect(context.destination);
      await context.resume();
      return new AudioPlayer(context, node, options.handlers);
    } catch (err) {
      await context.close().catch(() => undefined);
      throw err;
    }
  }

  /** A fresh player for a (re)connection: empty ring of `capacityMs`, starting at `epoch`. */
  configure(epoch: number, capacityMs: number, reportEveryMs: number): void {
    this.gen++;
    this.clearArrivals.clear();
    this.post({ type: 'configure', gen: this.gen, epoch, capacityMs, reportEveryMs });
  }

  push(epoch: number, sentenceId: number, samples: Int16Array): void {
    this.node.port.postMessage({ type: 'audio', gen: this.gen, epoch, sentenceId, samples } satisfies ToPlayer, [samples.buffer as ArrayBuffer]);
  }

  sentenceEnd(epoch: number, sentenceId: number): void {
    this.post({ type: 'sentence-end', gen: this.gen, epoch, sentenceId });
  }

  clear(epoch: number): void {
    if (this.clearArrivals.size >= MAX_PENDING_CLEARS) this.clearArrivals.clear();
    this.clearArrivals.set(epoch, { perfMs: performance.now(), contextTime: this.context.currentTime });
    this.post({ type: 'clear', gen: this.gen, epoch });
  }

  async close(): Promise<void> {
    this.gen++;
    this.node.port.onmessage = null;
    this.node.disconnect();
    await this.context.close().catch(() => undefined);
  }

  private post(message: ToPlayer): void {
    this.node.port.postMessage(message);
  }

  private onWorkletMessage(message: FromPlayer): void {
    if (message.gen !== this.gen) return;
    switch (message.type) {
      case 'played':
        return this.handlers.played(message.epoch, message.playedMs);
      case 'sentence-played':
        return this.handlers.sentencePlayed(message.epoch, message.sentenceId);
      case 'playing':
        return this.handlers.playing(message.playing);
      case 'status':
        return this.handlers.status(message.status);
      case 'cleared': {
        const arrival = this.clearArrivals.get(message.epoch);
        this.clearArrivals.delete(message.epoch);
        const silenceMs = arrival === undefined ? undefined : this.silenceDelayMs(arrival, message.contextTime);
        return this.handlers.cleared(message.epoch, (message.droppedSamples * 1000) / this.context.sampleRate, silenceMs);
      }
    }
  }

  /**
   * Clear arrival → the moment the last dropped sample would have left the speaker: the audio-clock
   * time the worklet stopped, mapped to performance time through getOutputTimestamp (which includes
   * the output latency). Without that API: the audio-clock distance plus the reported output latency.
   */
  private silenceDelayMs(arrival: { readonly perfMs: number; readonly contextTime: number }, stoppedAt: number): number {
    const stamp = typeof this.context.getOutputTimestamp === 'function' ? this.context.getOutputTimestamp() : undefined;
    if (stamp?.contextTime !== undefined && stamp.performanceTime !== undefined && stamp.performanceTime > 0) {
      const stoppedPerf = stamp.performanceTime + (stoppedAt - stamp.contextTime) * 1000;
      return Math.max(0, stoppedPerf - arrival.perfMs);
    }
    const latency = (this.context.outputLatency || this.context.baseLatency || 0) * 1000;
    return Math.max(0, (stoppedAt - arrival.contextTime) * 1000 + latency);
  }
}
