/**
 * The capture AudioWorklet (bundled to client/dist/mic-worklet.js): mic samples in, PCM16 frames
 * at the wire rate out to the main thread (transferred, not copied).
 */
import { MicFramer } from './mic-core.js';
import type { AudioWorkletProcessorImpl } from './worklet-globals.js';
import type { FromMic, MicProcessorOptions, ToMic } from './worklet-messages.js';
import { MIC_PROCESSOR } from './worklet-messages.js';
import { scope } from './worklet-scope.js';

class MicProcessor extends scope.AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private readonly framer: MicFramer;
  private stopped = false;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const opts = options.processorOptions as MicProcessorOptions;
    this.framer = new MicFramer({ inRate: scope.sampleRate, outRate: opts.outRate, frameMs: opts.frameMs });
    this.port.onmessage = (event: MessageEvent<ToMic>) => {
      if (event.data.type === 'stop') this.stopped = true;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const samples = inputs[0]?.[0];
    // No input channel while the track is muted or not yet connected: nothing to frame.
    if (samples !== undefined && !this.stopped) {
      for (const frame of this.framer.process(samples)) {
        const message: FromMic = { type: 'frame', samples: frame };
        this.port.postMessage(message, [frame.buffer]);
      }
    }
    return !this.stopped;
  }
}

scope.registerProcessor(MIC_PROCESSOR, MicProcessor);
