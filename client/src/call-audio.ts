/**
 * Opening a call's audio: the player and (optionally) the mic, each on its own AudioContext at its
 * wire rate. Both contexts are created and resumed synchronously when `openCallAudio` is called,
 * which must be inside the user's gesture: autoplay policies (Safari's especially) only let a
 * context start from one. On failure everything opened so far is closed before the error is rethrown.
 */
import type { WireRate } from '../../src/transports/browser/codec.js';
import { AudioPlayer, type AudioPlayerHandlers } from './audio-player.js';
import { MicCapture } from './mic-capture.js';

export interface CallAudioOptions {
  readonly playbackRate: WireRate;
  readonly micRate: WireRate;
  /** Capture the mic. */
  readonly mic: boolean;
  readonly micFrameMs: number;
  /** Folder holding player-worklet.js and mic-worklet.js. */
  readonly workletBaseUrl: string | URL;
  readonly player: AudioPlayerHandlers;
  readonly onMicFrame: (samples: Int16Array) => void;
}

/** What a call plays into and captures from; the owner stops both at shutdown. */
export interface CallAudio {
  readonly player: AudioPlayer;
  readonly mic: MicCapture | undefined;
}

export async function openCallAudio(options: CallAudioOptions): Promise<CallAudio> {
  const playerContext = new AudioContext({ sampleRate: options.playbackRate, latencyHint: 'interactive' });
  const micContext = options.mic ? new AudioContext({ sampleRate: options.micRate, latencyHint: 'interactive' }) : undefined;
  const resumed = Promise.allSettled([playerContext.resume(), micContext?.resume()]);
  let player: AudioPlayer | undefined;
  try {
    await resumed;
    player = await AudioPlayer.create({
      context: playerContext,
      workletUrl: new URL('player-worklet.js', options.workletBaseUrl),
      handlers: options.player,
    });
    const mic = micContext === undefined ? undefined : await MicCapture.start({
      context: micContext,
      rate: options.micRate,
      frameMs: options.micFrameMs,
      workletUrl: new URL('mic-worklet.js', options.workletBaseUrl),
      onFrame: options.onMicFrame,
    });
    return { player, mic };
  } catch (err) {
    await Promise.allSettled([player?.close()]);
    // A context whose owner failed to start is still open: close it here.
    for (const context of [playerContext, micContext]) {
      if (context !== undefined && context.state !== 'closed') await context.close().catch(() => undefined);
    }
    throw err;
  }
}
