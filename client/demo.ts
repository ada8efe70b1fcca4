/**
 * The demo page (client/index.html, bundled to client/dist/demo.js): one button to talk, live
 * readouts and a 30 s plot of audio buffered in the player. Gets its token from POST /session.
 * `window.voicewireStats` always holds the current figures (for tests), `window.voicewireClient`
 * the client.
 */
import { VoicewireClient, type ClientStats } from './src/index.js';

declare global {
  interface Window {
    voicewireStats: ClientStats | null;
    voicewireClient: VoicewireClient | null;
  }
}

const PLOT_SECONDS = 30;
const PLOT_EVERY_MS = 100;
const MAX_TRANSCRIPT_LINES = 50;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`demo: #${id} is missing`);
  return found as T;
}

const talk = element<HTMLButtonElement>('talk');
const status = element<HTMLElement>('status');
const buffered = element<HTMLOutputElement>('buffered');
const credit = element<HTMLOutputElement>('credit');
const rtt = element<HTMLOutputElement>('rtt');
const bargein = element<HTMLOutputElement>('bargein');
const details = element<HTMLElement>('details');
const errorLine = element<HTMLElement>('error');
const transcript = element<HTMLUListElement>('transcript');
const canvas = element<HTMLCanvasElement>('plot');

/** Fixed ring of samples: the plot never holds more than PLOT_SECONDS of points. */
class BufferPlot {
  private readonly values = new Float32Array((PLOT_SECONDS * 1000) / PLOT_EVERY_MS);
  private next = 0;
  private windowMs = 800;

  add(bufferedMs: number, windowMs: number): void {
    this.values[this.next] = bufferedMs;
    this.next = (this.next + 1) % this.values.length;
    this.windowMs = windowMs;
  }

  draw(target: HTMLCanvasElement): void {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(target.clientWidth * ratio);
    const height = Math.round(target.clientHeight * ratio);
    if (target.width !== width || target.height !== height) {
      target.width = width;
      target.height = height;
    }
    const g = target.getContext('2d');
    if (!g) return;
    const style = getComputedStyle(document.body);
    const top = Math.max(this.windowMs * 1.1, 100);
    const y = (ms: number): number => height - (ms / top) * (height - 4) - 2;
    g.clearRect(0, 0, width, height);
    g.strokeStyle = style.color;
    g.globalAlpha = 0.35;
    g.setLineDash([6 * ratio, 6 * ratio]);
    g.beginPath();
    g.moveTo(0, y(this.windowMs));
    g.lineTo(width, y(this.windowMs));
    g.stroke();
    g.setLineDash([]);
    g.globalAlpha = 1;
    g.lineWidth = 2 * ratio;
    g.beginPath();
    const n = this.values.length;
    for (let i = 0; i < n; i++) {
      const x = (i / (n - 1)) * width;
      const v = this.values[(this.next + i) % n] ?? 0;
      if (i === 0) g.moveTo(x, y(v));
      else g.lineTo(x, y(v));
    }
    g.stroke();
  }
}

const plot = new BufferPlot();
let client: VoicewireClient | null = null;
window.voicewireStats = null;
window.voicewireClient = null;

function ms(value: number | null): string {
  return value === null ? '–' : `${Math.round(value)} ms`;
}

function render(stats: ClientStats): void {
  window.voicewireStats = stats;
  buffered.value = ms(stats.bufferedMs);
  credit.value = `${Math.round(stats.creditMs)} / ${stats.windowMs}`;
  rtt.value = ms(stats.rttMs);
  bargein.value = ms(stats.lastBargeInMs);
  details.textContent =
    `max buffered ${Math.round(stats.maxBufferedMs)} ms · reports ${stats.reportsSent}` +
    ` (mean ${ms(stats.reportIntervalMeanMs)}, max ${ms(stats.reportIntervalMaxMs)})` +
    ` · stale frames dropped ${stats.framesDroppedStale} · underruns ${stats.underruns}` +
    ` · mic frames ${stats.micFramesSent} sent, ${stats.micFramesDropped} dropped · reconnects ${stats.reconnects}`;
}

/** A piece that ends a sentence, and one that starts a word (digits excluded: "3." + "5"). */
const SENTENCE_END = /[.!?…]["'”’)\]]?$/u;
const WORD_START = /^[\p{L}"'“‘(]/u;

/**
 * Joins a transcript piece to its line. Realtime deltas carry their own spaces; the cascade sends
 * one sentence per piece, trimmed, which would otherwise read "seconds.There's".
 */
function joinPiece(line: string, piece: string): string {
  return SENTENCE_END.test(line) && WORD_START.test(piece) ? `${line} ${piece}` : line + piece;
}

function addTranscript(role: string, text: string): void {
  const last = transcript.lastElementChild;
  // Deltas of one utterance extend its line; a new speaker starts a new one.
  if (last instanceof HTMLLIElement && last.className === role && last.dataset.open === 'true') {
    last.textContent = joinPiece(last.textContent ?? '', text);
  } else {
    const item = document.createElement('li');
    item.className = role;
    item.dataset.open = 'true';
    item.textContent = text;
    transcript.append(item);
    while (transcript.children.length > MAX_TRANSCRIPT_LINES) transcript.firstElementChild?.remove();
  }
  transcript.scrollTop = transcript.scrollHeight;
}

function closeTranscriptLine(): void {
  const last = transcript.lastElementChild;
  if (last instanceof HTMLLIElement) last.dataset.open = 'false';
}

function setTalking(on: boolean): void {
  talk.setAttribute('aria-pressed', String(on));
  talk.textContent = on ? 'Stop' : 'Talk';
}

async function startCall(): Promise<void> {
  errorLine.textContent = '';
  const c = new VoicewireClient({ sessionUrl: '/session', statsEveryMs: PLOT_EVERY_MS });
  client = c;
  window.voicewireClient = c;
  c.on('stats', (stats) => {
    render(stats);
    plot.add(stats.bufferedMs, stats.windowMs);
  });
  c.on('connected', (info) => (status.textContent = `Connected (${info.playbackRate / 1000} kHz, window ${info.windowMs} ms). Say something.`));
  c.on('state', ({ state }) => (status.textContent = state[0]?.toUpperCase() + state.slice(1) + '…'));
  c.on('speaking', ({ speaking }) => {
    talk.classList.toggle('speaking', speaking);
    // The gateway marks no transcript piece final: an answer's line ends when its audio does.
    if (!speaking) closeTranscriptLine();
  });
  c.on('interrupted', ({ silenceMs }) => {
    status.textContent = `Interrupted: silent after ${ms(silenceMs)}`;
    closeTranscriptLine();
  });
  c.on('transcript', ({ role, text, final }) => {
    addTranscript(role, text);
    if (final) closeTranscriptLine();
  });
  c.on('error', ({ code, message }) => (errorLine.textContent = `${code}: ${message}`));
  c.on('closed', ({ code, reason, willReconnect }) => {
    status.textContent = willReconnect ? `Connection lost (${code}); reconnecting…` : `Call ended (${code}${reason ? ` ${reason}` : ''}).`;
    if (!willReconnect) {
      setTalking(false);
      if (client === c) client = null;
    }
  });
  status.textContent = 'Connecting…';
  setTalking(true);
  await c.start();
}

talk.addEventListener('click', () => {
  talk.disabled = true;
  const action = client ? client.stop().then(() => (client = null)) : startCall();
  action
    .catch((err: unknown) => {
      setTalking(false);
      client = null;
      errorLine.textContent = err instanceof Error ? err.message : String(err);
    })
    .finally(() => (talk.disabled = false));
});

function frame(): void {
  if (document.visibilityState === 'visible') plot.draw(canvas);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
