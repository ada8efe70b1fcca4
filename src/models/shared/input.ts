/**
 * The caller-audio path shared by every backend: the bounded input queue (oldest dropped) and the
 * format converter. Both were written for the Realtime backend and are protocol-free; they are
 * re-exported here so the socket-bridged backends depend on `shared/`, and move here for good when
 * the Realtime client is reshaped (issue 13, deferred until the function-calling work lands).
 */
export { InputPump, type InputPumpOptions, type InputPumpStats } from '../openai-realtime/input-pump.js';
export { FormatConverter } from '../openai-realtime/convert.js';
