/**
 * voicewire browser SDK (bundled to client/dist/voicewire.js, ESM). The worklets are separate
 * bundles (player-worklet.js, mic-worklet.js) loaded from the same folder by default.
 *
 *   import { VoicewireClient } from '/client/voicewire.js';
 *   const client = new VoicewireClient({ sessionUrl: '/session' });
 *   client.on('stats', (s) => console.log(s.bufferedMs, s.rttMs));
 *   button.onclick = () => client.start();
 */
export { VoicewireClient } from './client.js';
export type { SessionInfo, VoicewireClientOptions, VoicewireEvents } from './client.js';
export type { ClientState, ClientStats } from './stats.js';
export { PlayerCore } from './player-core.js';
export type { PlayedReport, PlayerCoreOptions, PlayerCounters, PushResult, SentenceAck } from './player-core.js';
export { MicFramer } from './mic-core.js';
export { backoffDelay } from './backoff.js';
export { PROTOCOL_VERSION } from '../../src/transports/browser/messages.js';
export type { ConversationState, TranscriptRole, WireRate } from '../../src/transports/browser/messages.js';
