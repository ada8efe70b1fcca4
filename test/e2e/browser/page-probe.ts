/**
 * A probe injected into the demo page before its own scripts run (Playwright `addInitScript`). It
 * watches the page's WebSocket from the outside — audio frames received per epoch, `clear`s, the
 * `played` reports the SDK sends — and the client's `interrupted` events, and checks two things the
 * SDK's own stats cannot show, because a broken player would miscount them too:
 *
 * - no `played` report of an older epoch advances after the player said it applied a `clear` (the
 *   worklet stopped the old audio: nothing of it may be output afterwards);
 * - no `played` report claims more of an epoch than the page had received of it (a `clear` that did
 *   not empty the ring would play old samples into the new epoch's count).
 *
 * Together: old-epoch audio played after a clear, in ms (`stalePlayedMs`, must be 0). Kept as plain
 * JavaScript in a string: functions handed to the page must not carry the test runner's transforms.
 * Everything it keeps is bounded.
 */

/** What the probe collected (`window.__voicewireProbe`). */
export interface ProbeLog {
  /** ms of audio received per epoch (all frames, stale ones included). */
  readonly receivedMs: Readonly<Record<string, number>>;
  readonly clears: number;
  /** Stale frames: of an epoch older than the newest `clear` seen when they arrived. */
  readonly staleFramesReceived: number;
  readonly playedReports: number;
  /** Highest played position reported per epoch. */
  readonly playedMs: Readonly<Record<string, number>>;
  /** Each `interrupted` event: the epoch it moved to and the SDK's clear → silence time. */
  readonly interruptions: ReadonlyArray<{ readonly epoch: number; readonly silenceMs: number | null; readonly droppedMs: number }>;
  /** Old-epoch audio reported played after the player applied the clear (ms). */
  readonly playedAfterClearMs: number;
  /** Largest excess of a played report over the audio of its epoch received by then (ms). */
  readonly overclaimMs: number;
  /** `bye` messages the page sent (Stop must say goodbye before closing). */
  readonly byes: number;
}

export const PROBE_SCRIPT = String.raw`(() => {
  const MAX_INTERRUPTIONS = 64;
  const log = {
    receivedMs: {}, clears: 0, staleFramesReceived: 0, playedReports: 0, playedMs: {},
    interruptions: [], playedAfterClearMs: 0, overclaimMs: 0, byes: 0,
  };
  let newestClear = -1;
  let appliedClear = -1;
  window.__voicewireProbe = log;

  const onIncoming = (event) => {
    const data = event.data;
    if (typeof data === 'string') {
      try {
        const message = JSON.parse(data);
        if (message.type === 'clear') {
          log.clears++;
          newestClear = Math.max(newestClear, message.epoch);
        }
      } catch { /* not ours to judge: the SDK counts protocol errors */ }
      return;
    }
    if (!(data instanceof ArrayBuffer) || data.byteLength < 16) return;
    const view = new DataView(data);
    if (view.getUint8(0) !== 0xa1 || view.getUint8(1) !== 1) return;
    const rate = view.getUint8(2) === 1 ? 16000 : 24000;
    const epoch = view.getUint32(4, true);
    if (epoch < newestClear) log.staleFramesReceived++;
    log.receivedMs[epoch] = (log.receivedMs[epoch] || 0) + ((data.byteLength - 16) / 2) * 1000 / rate;
  };

  const onPlayed = (epoch, playedMs) => {
    log.playedReports++;
    const before = log.playedMs[epoch] || 0;
    if (playedMs > before) {
      if (epoch < appliedClear) log.playedAfterClearMs += playedMs - before;
      log.playedMs[epoch] = playedMs;
    }
    const excess = playedMs - (log.receivedMs[epoch] || 0);
    if (excess > log.overclaimMs) log.overclaimMs = excess;
  };

  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      // Registered before the SDK sets onmessage, so the probe sees each message first.
      this.addEventListener('message', onIncoming);
    }
    send(data) {
      if (typeof data === 'string' && data.includes('"bye"')) log.byes++;
      if (typeof data === 'string' && data.includes('"played"')) {
        try {
          const message = JSON.parse(data);
          if (message.type === 'played') onPlayed(message.epoch, message.playedMs);
        } catch { /* the server judges what the SDK sends */ }
      }
      return super.send(data);
    }
  }
  window.WebSocket = ProbedWebSocket;

  // The demo publishes its client on window.voicewireClient: subscribe as it appears.
  let client = null;
  Object.defineProperty(window, 'voicewireClient', {
    configurable: true,
    get: () => client,
    set: (value) => {
      client = value;
      if (value && typeof value.on === 'function') {
        value.on('interrupted', (event) => {
          appliedClear = Math.max(appliedClear, event.epoch);
          if (log.interruptions.length < MAX_INTERRUPTIONS) {
            log.interruptions.push({ epoch: event.epoch, silenceMs: event.silenceMs, droppedMs: event.droppedMs });
          }
        });
      }
    },
  });
})();`;

/** Old-epoch audio played after a clear, in ms, by either route the probe watches. */
export function stalePlayedMs(log: ProbeLog): number {
  // Played positions are rounded down to the µs and received ms are exact: allow float noise only.
  return log.playedAfterClearMs + (log.overclaimMs > 0.01 ? log.overclaimMs : 0);
}

/** Total audio reported played over every epoch (ms). */
export function totalPlayedMs(log: ProbeLog): number {
  return Object.values(log.playedMs).reduce((sum, ms) => sum + ms, 0);
}
