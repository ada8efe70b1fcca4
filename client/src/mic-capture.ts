/**
 * Mic capture: getUserMedia (echo cancellation on, so the assistant's own voice does not barge in)
 * into the capture worklet, which hands back PCM16 frames at the wire rate.
 *
 * The capture AudioContext runs at the wire rate when the browser allows it (Chromium, Safari): the
 * browser then resamples with its own filters. Firefox refuses to connect a microphone to a context
 * at another rate than the device's; there the context runs at the device rate and the worklet
 * resamples (mic-core.ts).
 */
import type { FromMic, MicProcessorOptions, ToMic } from './worklet-messages.js';
import { MIC_PROCESSOR } from './worklet-messages.js';

export interface MicCaptureOptions {
  /** A context at the wire rate, created in the user's gesture; owned by the capture from here on. */
  readonly context: AudioContext;
  readonly rate: number;
  readonly frameMs: number;
  /** URL of mic-worklet.js. */
  readonly workletUrl: string | URL;
  readonly onFrame: (samples: Int16Array) => void;
  /** Extra constraints merged into the audio constraints. */
  readonly constraints?: MediaTrackConstraints;
}

export class MicCapture {
  private stopped = false;

  private constructor(
    private readonly stream: MediaStream,
    private readonly context: AudioContext,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly node: AudioWorkletNode,
  ) {}

  /** The capture context's rate (the wire rate, or the device rate when the worklet resamples). */
  get contextRate(): number {
    return this.context.sampleRate;
  }

  static async start(options: MicCaptureOptions): Promise<MicCapture> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, ...options.constraints },
    });
    try {
      return await MicCapture.connect(stream, options);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      throw err;
    }
  }

  private static async connect(stream: MediaStream, options: MicCaptureOptions): Promise<MicCapture> {
    let context = options.context;
    let source: MediaStreamAudioSourceNode;
    try {
      source = context.createMediaStreamSource(stream);
    } catch {
      // Firefox: "Connecting AudioNodes from AudioContexts with different sample-rate is currently
      // not supported". Capture at the device rate instead; the worklet resamples.
      await context.close();
      context = new AudioContext({ latencyHint: 'interactive' });
      source = context.createMediaStreamSource(stream);
    }
    try {
      await context.audioWorklet.addModule(String(options.workletUrl));
      const processorOptions: MicProcessorOptions = { outRate: options.rate, frameMs: options.frameMs };
      const node = new AudioWorkletNode(context, MIC_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 0, processorOptions });
      node.port.onmessage = (event: MessageEvent<FromMic>) => options.onFrame(event.data.samples);
      source.connect(node);
      await context.resume();
      return new MicCapture(stream, context, source, node);
    } catch (err) {
      await context.close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.node.port.postMessage({ type: 'stop' } satisfies ToMic);
    this.node.port.onmessage = null;
    this.source.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
    await this.context.close();
  }
}
