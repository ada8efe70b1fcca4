/**
 * Messages between the main thread and the two AudioWorklets. `gen` is the player generation:
 * each (re)connection configures a fresh player, and anything tagged with an older generation —
 * audio posted before a reconnect, reports produced before it — is ignored on arrival.
 */
import type { PlayerCounters } from './player-core.js';

export const PLAYER_PROCESSOR = 'voicewire-player';
export const MIC_PROCESSOR = 'voicewire-mic';

export type ToPlayer =
  | { readonly type: 'configure'; readonly gen: number; readonly epoch: number; readonly capacityMs: number; readonly reportEveryMs: number }
  | { readonly type: 'audio'; readonly gen: number; readonly epoch: number; readonly sentenceId: number; readonly samples: Int16Array }
  | { readonly type: 'sentence-end'; readonly gen: number; readonly epoch: number; readonly sentenceId: number }
  | { readonly type: 'clear'; readonly gen: number; readonly epoch: number };

export interface PlayerStatus {
  readonly bufferedSamples: number;
  readonly maxBufferedSamples: number;
  readonly capacitySamples: number;
  readonly playedSamples: number;
  readonly counters: PlayerCounters;
}

export type FromPlayer =
  | { readonly type: 'played'; readonly gen: number; readonly epoch: number; readonly playedMs: number }
  | { readonly type: 'sentence-played'; readonly gen: number; readonly epoch: number; readonly sentenceId: number }
  /** `contextTime`: start (s, audio clock) of the first render quantum after the clear: old audio stops there. */
  | { readonly type: 'cleared'; readonly gen: number; readonly epoch: number; readonly droppedSamples: number; readonly contextTime: number }
  | { readonly type: 'playing'; readonly gen: number; readonly playing: boolean }
  | { readonly type: 'status'; readonly gen: number; readonly status: PlayerStatus };

export interface MicProcessorOptions {
  readonly outRate: number;
  readonly frameMs: number;
}

export type ToMic = { readonly type: 'stop' };
export type FromMic = { readonly type: 'frame'; readonly samples: Int16Array };
