/**
 * The one table of voicewire error codes (house style 8, after fastify's lib/errors.js). Code
 * matches on `.code`, never on message text. Codes that end a WebSocket carry the close code the
 * peer sees; 4xxx codes are ours (RFC 6455 leaves 4000–4999 to applications).
 */

export interface ErrorSpec {
  readonly message: string;
  /** WebSocket close code when this error ends a connection; absent when the connection lives on. */
  readonly closeCode?: number;
}

export const ERRORS = {
  // Flow primitives
  VW_ERR_ABORTED: { message: 'aborted: %s' },
  VW_ERR_CLOSED: { message: 'closed: %s' },
  VW_ERR_INVALID_SIZE: { message: 'invalid chunk size %s: must be finite and >= 0' },
  VW_ERR_CHUNK_TOO_LARGE: { message: 'chunk of %s ms exceeds the high water mark of %s ms' },
  VW_ERR_DEADLINE: { message: 'deadline of %s ms passed while waiting for %s' },

  // Caller-side wire protocol (Twilio Media Streams, browser protocol)
  VW_ERR_BAD_JSON: { message: 'malformed JSON: %s' },
  VW_ERR_UNKNOWN_EVENT: { message: 'unknown event %s' },
  VW_ERR_BAD_FIELD: { message: 'bad or missing field %s' },
  VW_ERR_WRONG_STREAM: { message: 'streamSid %s does not match the stream %s' },
  VW_ERR_MEDIA_BEFORE_START: { message: 'media before start' },
  VW_ERR_BAD_BASE64: { message: 'payload is not valid base64' },
  VW_ERR_BAD_PAYLOAD_SIZE: { message: 'payload of %s bytes is not a whole number of samples or too large' },
  VW_ERR_BINARY_FRAME: { message: 'unexpected binary frame' },
  VW_ERR_BAD_FRAME: { message: 'malformed binary frame: %s' },
  VW_ERR_PROTOCOL_VERSION: { message: 'unsupported protocol version %s', closeCode: 4002 },
  VW_ERR_TOO_MANY_BAD_INPUTS: { message: 'too many malformed messages (%s)', closeCode: 4003 },
  VW_ERR_DUPLICATE_START: { message: 'start received twice', closeCode: 4004 },

  // Connection health
  VW_ERR_SLOW_CONSUMER: { message: 'bufferedAmount stayed above %s bytes for %s ms', closeCode: 4008 },
  VW_ERR_HEARTBEAT: { message: 'peer missed %s heartbeats' , closeCode: 4009 },
  VW_ERR_MODEL_UNAVAILABLE: { message: 'model connection lost: %s', closeCode: 4010 },
  VW_ERR_QUEUE_CAP: { message: 'model audio queue reached its cap of %s ms' },
  VW_ERR_PLAYOUT_STALLED: { message: 'caller confirmed no playback for %s ms while audio was waiting', closeCode: 4011 },
  VW_ERR_MODEL_CONNECT: { message: 'could not connect to the model: %s', closeCode: 4012 },
  VW_ERR_SERVER_FULL: { message: 'gateway is at its limit of %s calls', closeCode: 1013 },

  // Auth
  VW_ERR_BAD_SIGNATURE: { message: 'missing or invalid carrier signature or credential' },
  VW_ERR_BAD_TOKEN: { message: 'missing, expired or already used session token' },
  VW_ERR_ORIGIN: { message: 'origin %s is not allowed' },

  // Models
  VW_ERR_MODEL_EVENT: { message: 'model error %s: %s' },
  VW_ERR_STAGE_FAILED: { message: 'stage %s failed: %s' },

  // Audio helpers (codec, resampler)
  VW_ERR_BUFFER_TOO_SMALL: { message: 'output buffer holds %s elements, %s needed' },
  VW_ERR_RESAMPLE_TOO_LARGE: { message: 'resampler input of %s samples exceeds the cap of %s samples' },

  // Cascade backend (STT → LLM → TTS)
  VW_ERR_MALFORMED_STREAM: { message: 'malformed %s stream: %s' },

  // Twilio transport
  VW_ERR_MESSAGE_TOO_LARGE: { message: 'message of size %s exceeds the limit of %s' },

  // Browser transport
  VW_ERR_BEFORE_HELLO: { message: '%s before hello' },
  VW_ERR_DUPLICATE_HELLO: { message: 'hello received twice' },
  VW_ERR_HELLO_TIMEOUT: { message: 'no hello within %s ms', closeCode: 4005 },
  VW_ERR_TOKEN_STORE_FULL: { message: 'session token store holds %s unexpired used tokens' },

  // Offline TTS (cascade backend)
  VW_ERR_TTS_UNAVAILABLE: { message: 'offline TTS engine could not be loaded: %s' },
  VW_ERR_TTS_BUSY: { message: 'offline TTS queue is full (%s requests waiting)' },
  VW_ERR_TTS_VOICE: { message: 'offline TTS has no voice %s' },
  VW_ERR_TTS_TEXT_TOO_LONG: { message: 'text of %s characters exceeds the TTS cap of %s' },
  VW_ERR_TTS_ENGINE_FAILED: { message: 'offline TTS engine failed: %s' },

  // Fleet: drain, admission, abuse (issue 9)
  VW_ERR_SHUTDOWN: { message: 'gateway shutting down: %s', closeCode: 1001 },
  VW_ERR_DRAINING: { message: 'gateway is draining: new calls go to another replica' },
  VW_ERR_START_TIMEOUT: { message: 'no start within %s ms', closeCode: 4020 },
  VW_ERR_CALL_TOO_LONG: { message: 'call reached MAX_CALL_MS of %s ms', closeCode: 4021 },
  VW_ERR_PENDING_FULL: { message: '%s connections are already waiting for their start' },
  VW_ERR_RATE_LIMITED: { message: 'too many %s from this address' },
  VW_ERR_METRICS_AUTH: { message: 'missing or wrong metrics bearer token' },
  VW_ERR_NO_AUTH_TOKEN: { message: 'TWILIO_AUTH_TOKEN is not set: Twilio webhooks and streams are not authenticated' },
  VW_ERR_NO_SESSION_SECRET: { message: 'SESSION_SECRET is not set: browser tokens only work on the replica that minted them' },
  // Agents that act (setup webhook, tools, events, call control)
  VW_ERR_SETUP_FAILED: { message: 'call setup failed (%s): %s; the defaults apply' },
  VW_ERR_CALL_REJECTED: { message: 'call rejected by the setup: %s', closeCode: 4022 },
  VW_ERR_TOOL_FAILED: { message: 'tool %s failed (%s): %s' },
  VW_ERR_EVENTS_DROPPED: { message: '%s events dropped (%s)' },
  VW_ERR_TRANSFER_FAILED: { message: 'transfer to %s failed: %s' },

  VW_ERR_INTERNAL: { message: 'internal error: %s', closeCode: 1011 },

  // Config
  VW_ERR_CONFIG: { message: 'invalid configuration: %s' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An Error with a stable `.code` and, when it ends a connection, a WebSocket close code. */
export class VoicewireError extends Error {
  readonly code: ErrorCode;
  readonly closeCode: number | undefined;

  constructor(code: ErrorCode, ...args: Array<string | number>) {
    const spec: ErrorSpec = ERRORS[code];
    let i = 0;
    super(spec.message.replace(/%s/g, () => String(args[i++] ?? '')));
    this.name = 'VoicewireError';
    this.code = code;
    this.closeCode = spec.closeCode;
  }
}

export function vwError(code: ErrorCode, ...args: Array<string | number>): VoicewireError {
  return new VoicewireError(code, ...args);
}

export function isVoicewireError(err: unknown, code?: ErrorCode): err is VoicewireError {
  return err instanceof VoicewireError && (code === undefined || err.code === code);
}
