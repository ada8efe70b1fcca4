/** The transport-agnostic backpressure primitives, in one import. */
export { AudioQueue } from './audio-queue.js';
export type { AudioQueueOptions, OverflowPolicy, SizedChunk, WaitOptions } from './audio-queue.js';
export { CreditGate, DEFAULT_WINDOW_MS, MAX_WINDOW_MS, MIN_WINDOW_MS } from './credit-gate.js';
export type { CreditGateOptions } from './credit-gate.js';
export { Deque } from './deque.js';
export { EpochClock } from './epoch.js';
export { PlayoutTracker } from './playout-tracker.js';
export type { PlayoutTrackerOptions } from './playout-tracker.js';
export { SentenceSplitter, splitSentences } from './sentence-splitter.js';
export type { SentenceSplitterOptions } from './sentence-splitter.js';
