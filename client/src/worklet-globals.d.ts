/**
 * The AudioWorkletGlobalScope, which lib.dom does not describe. Declared as types reached through
 * `globalThis` (see worklet-scope.ts) rather than as ambient globals: the root tsconfig compiles
 * the server and the client together, and a global `sampleRate` or `currentTime` would let server
 * code reference them without an error.
 */

/** What every processor instance has (the node's port is the other end of `port`). */
export interface AudioWorkletProcessorBase {
  readonly port: MessagePort;
}

export interface AudioWorkletProcessorImpl extends AudioWorkletProcessorBase {
  /** One render quantum (128 frames); return true to stay alive. */
  process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}

export type AudioWorkletProcessorConstructor = new (options: AudioWorkletNodeOptions) => AudioWorkletProcessorImpl;

export interface AudioWorkletScope {
  readonly AudioWorkletProcessor: new (options?: AudioWorkletNodeOptions) => AudioWorkletProcessorBase;
  registerProcessor(name: string, processor: AudioWorkletProcessorConstructor): void;
  /** The context's sample rate. */
  readonly sampleRate: number;
  /** Context time (s) of the render quantum being processed. */
  readonly currentTime: number;
  /** Frame index of the render quantum being processed. */
  readonly currentFrame: number;
}
