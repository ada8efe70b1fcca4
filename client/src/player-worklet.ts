/**
 * The playback AudioWorklet (bundled to client/dist/player-worklet.js). All bookkeeping lives in
 * PlayerCore; this file moves messages and render quanta. Played reports and sentence acks come
 * from here, so they follow the audio clock: samples actually handed to the output.
 */
import { PlayerCore } from './player-core.js';
import type { AudioWorkletProcessorImpl } from './worklet-globals.js';
import type { FromPlayer, ToPlayer } from './worklet-messages.js';
import { PLAYER_PROCESSOR } from './worklet-messages.js';
import { scope } from './worklet-scope.js';

/** A status message every this many ms of audio clock, playing or not. */
const STATUS_EVERY_MS = 100;

interface PendingClear {
  readonly epoch: number;
  readonly droppedSamples: number;
}

class PlayerProcessor extends scope.AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private core: PlayerCore | undefined;
  private gen = -1;
  private pendingClear: PendingClear | undefined;
  private wasPlaying = false;
  private framesSinceStatus = 0;
  private readonly statusEveryFrames = Math.round((STATUS_EVERY_MS * scope.sampleRate) / 1000);

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    this.port.onmessage = (event: MessageEvent<ToPlayer>) => this.onMessage(event.data);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const channels = outputs[0] ?? [];
    const first = channels[0];
    const core = this.core;
    if (first === undefined) return true;
    if (core === undefined) {
      first.fill(0);
    } else {
      core.render(first);
      this.afterRender(core);
    }
    for (let c = 1; c < channels.length; c++) channels[c]?.set(first);
    return true;
  }

  private afterRender(core: PlayerCore): void {
    if (this.pendingClear !== undefined) {
      // This quantum is the first rendered without the dropped audio: its start is when it stopped.
      this.post({ type: 'cleared', gen: this.gen, ...this.pendingClear, contextTime: scope.currentTime });
      this.pendingClear = undefined;
    }
    this.flushReports(core);
    if (core.playing !== this.wasPlaying) {
      this.wasPlaying = core.playing;
      this.post({ type: 'playing', gen: this.gen, playing: core.playing });
    }
    this.framesSinceStatus += 128;
    if (this.framesSinceStatus >= this.statusEveryFrames) {
      this.framesSinceStatus = 0;
      this.post({
        type: 'status',
        gen: this.gen,
        status: {
          bufferedSamples: core.bufferedSamples,
          maxBufferedSamples: core.maxBufferedSamples,
          capacitySamples: core.capacity,
          playedSamples: core.playedSamples,
          counters: { ...core.counters },
        },
      });
    }
  }

  private flushReports(core: PlayerCore): void {
    const report = core.takeReport();
    if (report !== undefined) this.post({ type: 'played', gen: this.gen, ...report });
    for (const ack of core.takeAcks()) this.post({ type: 'sentence-played', gen: this.gen, ...ack });
  }

  private onMessage(message: ToPlayer): void {
    if (message.type === 'configure') {
      this.gen = message.gen;
      this.core = new PlayerCore({ sampleRate: scope.sampleRate, capacityMs: message.capacityMs, epoch: message.epoch, reportEveryMs: message.reportEveryMs });
      this.pendingClear = undefined;
      this.wasPlaying = false;
      return;
    }
    const core = this.core;
    if (core === undefined || message.gen !== this.gen) return;
    switch (message.type) {
      case 'audio':
        core.push(message.epoch, message.sentenceId, message.samples);
        return;
      case 'sentence-end':
        core.sentenceEnd(message.epoch, message.sentenceId);
        // A sentence whose audio has all played (or that had none) is acknowledged at once.
        this.flushReports(core);
        return;
      case 'clear': {
        const dropped = core.clear(message.epoch);
        if (dropped !== undefined) this.pendingClear = { epoch: message.epoch, droppedSamples: dropped };
        return;
      }
    }
  }

  private post(message: FromPlayer): void {
    this.port.postMessage(message);
  }
}

scope.registerProcessor(PLAYER_PROCESSOR, PlayerProcessor);
