/**
 * The baseline of `npm run bench:load`: a minimal Twilio ⇄ OpenAI Realtime bridge in the manner of
 * the public Twilio sample (speech-assistant-openai-realtime-api-node), written afresh for the GA
 * API and kept here, in bench/, because it is a reference to measure against, not product code.
 *
 * What it does, and deliberately no more:
 * - each Twilio `media` → `input_audio_buffer.append` at once (dropped while the model socket is
 *   not open, as the sample does);
 * - each `response.output_audio.delta` → a Twilio `media` at once: no queue, no credit, no marks,
 *   so a model that speaks faster than real time banks its whole answer in Twilio's buffer;
 * - `input_audio_buffer.speech_started` → `clear` plus `conversation.item.truncate` at the
 *   wall-clock time elapsed since the first delta of the answer (what the sample does, and why it
 *   overshoots when playback lags: protocols.md §5).
 *
 * It has no bounds on purpose (the point of the comparison); do not copy it into src/.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface NaiveForwarderOptions {
  /** The model's WebSocket URL (e.g. the fake Realtime server's). */
  readonly realtimeUrl: string;
  readonly apiKey: string;
  /** Path of the Twilio media WebSocket (default `/twilio/media`, as the gateway's). */
  readonly path?: string;
}

export interface NaiveForwarder {
  readonly port: number;
  /** Calls currently bridged. */
  readonly calls: number;
  close(): Promise<void>;
}

/** Per-call state of the bridge: what the sample keeps in closure variables. */
export interface Bridge {
  readonly caller: WebSocket;
  readonly model: WebSocket;
  streamSid: string | undefined;
  /** performance.now() at the first delta of the current answer; undefined between answers. */
  answerStartedAt: number | undefined;
  lastAssistantItem: string | undefined;
}

/** The GA session the sample's beta one maps to: μ-law both ways (pass-through), server VAD. */
const SESSION_UPDATE = JSON.stringify({
  type: 'session.update',
  session: {
    type: 'realtime',
    output_modalities: ['audio'],
    instructions: 'You are a helpful voice assistant.',
    audio: {
      input: {
        format: { type: 'audio/pcmu' },
        turn_detection: {
          type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500,
          create_response: true, interrupt_response: true,
        },
      },
      output: { format: { type: 'audio/pcmu' }, voice: 'alloy' },
    },
  },
});

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function parse(data: RawData): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text(data));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    // The sample logs and ignores unparsable frames; a baseline need not do better.
    return undefined;
  }
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/** What a bridge does with each message (the naive forwarder's below; bench/floor-forwarder.ts has others). */
export interface BridgeHandlers {
  caller(bridge: Bridge, data: RawData): void;
  model(bridge: Bridge, data: RawData): void;
}

function callerOnMessage(bridge: Bridge, data: RawData): void {
  const msg = parse(data);
  switch (msg?.['event']) {
    case 'start':
      bridge.streamSid = String(field(msg['start'], 'streamSid'));
      bridge.answerStartedAt = undefined;
      return;
    case 'media': {
      const payload = field(msg['media'], 'payload');
      if (typeof payload === 'string' && bridge.model.readyState === WebSocket.OPEN) {
        bridge.model.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: payload }));
      }
      return;
    }
    default:
      return;
  }
}

function modelOnMessage(bridge: Bridge, data: RawData): void {
  const msg = parse(data);
  if (msg === undefined || bridge.caller.readyState !== WebSocket.OPEN) return;
  if (msg['type'] === 'response.output_audio.delta' && typeof msg['delta'] === 'string') {
    // Forwarded at once, whatever Twilio already holds: this is the behaviour under test.
    bridge.caller.send(JSON.stringify({ event: 'media', streamSid: bridge.streamSid, media: { payload: msg['delta'] } }));
    bridge.answerStartedAt ??= performance.now();
    if (typeof msg['item_id'] === 'string') bridge.lastAssistantItem = msg['item_id'];
    return;
  }
  if (msg['type'] === 'input_audio_buffer.speech_started') bargeIn(bridge);
}

/** The sample's barge-in: truncate at wall-clock elapsed time, clear Twilio, forget the answer. */
function bargeIn(bridge: Bridge): void {
  if (bridge.answerStartedAt === undefined) return;
  const elapsedMs = Math.round(performance.now() - bridge.answerStartedAt);
  if (bridge.lastAssistantItem !== undefined && bridge.model.readyState === WebSocket.OPEN) {
    bridge.model.send(JSON.stringify({
      type: 'conversation.item.truncate', item_id: bridge.lastAssistantItem, content_index: 0, audio_end_ms: elapsedMs,
    }));
  }
  bridge.caller.send(JSON.stringify({ event: 'clear', streamSid: bridge.streamSid }));
  bridge.answerStartedAt = undefined;
  bridge.lastAssistantItem = undefined;
}

const NAIVE: BridgeHandlers = { caller: callerOnMessage, model: modelOnMessage };

/** The naive forwarder's handlers (other bridges fall back to them for messages they do not handle). */
export function naiveHandlers(): BridgeHandlers {
  return NAIVE;
}

function openBridge(caller: WebSocket, options: NaiveForwarderOptions, bridges: Set<Bridge>, handlers: BridgeHandlers): void {
  const model = new WebSocket(options.realtimeUrl, {
    headers: { Authorization: `Bearer ${options.apiKey}` },
    perMessageDeflate: false,
  });
  const bridge: Bridge = { caller, model, streamSid: undefined, answerStartedAt: undefined, lastAssistantItem: undefined };
  bridges.add(bridge);
  model.on('open', () => model.send(SESSION_UPDATE));
  model.on('message', (data: RawData) => handlers.model(bridge, data));
  model.on('close', () => caller.close());
  // Errors end the bridge through `close`; the baseline has nothing else to do with them.
  model.on('error', () => caller.terminate());
  caller.on('message', (data: RawData) => handlers.caller(bridge, data));
  caller.on('error', () => model.terminate());
  caller.on('close', () => {
    bridges.delete(bridge);
    if (model.readyState === WebSocket.OPEN || model.readyState === WebSocket.CONNECTING) model.terminate();
  });
}

/** Starts the naive bridge on `host:port` (port 0: an ephemeral one). */
export function startNaiveForwarder(options: NaiveForwarderOptions, port = 0, host = '127.0.0.1'): Promise<NaiveForwarder> {
  return startBridgeServer(options, NAIVE, port, host);
}

/** The naive forwarder's server and session setup with other message handlers (bench/floor-forwarder.ts). */
export async function startBridgeServer(options: NaiveForwarderOptions, handlers: BridgeHandlers, port = 0, host = '127.0.0.1'): Promise<NaiveForwarder> {
  const path = options.path ?? '/twilio/media';
  const bridges = new Set<Bridge>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => openBridge(ws, options, bridges, handlers));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    get calls() {
      return bridges.size;
    },
    async close() {
      for (const bridge of bridges) {
        bridge.caller.terminate();
        bridge.model.terminate();
      }
      bridges.clear();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
