/**
 * Model factories of the socket-bridged backends (Gemini Live, Deepgram Voice Agent, ElevenLabs
 * Agents), kept beside build.ts so adding one is a few lines here and none there.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.js';
import type { ModelFactory } from '../models/model.js';
import { GeminiLiveSession } from '../models/gemini-live/session.js';
import { DeepgramAgentSession } from '../models/deepgram-agent/session.js';
import { ElevenLabsAgentSession } from '../models/elevenlabs-agent/session.js';

/** The factory for `config.backend`, or undefined when it is not a socket-bridged backend. */
export function socketBridgedFactory(config: GatewayConfig, logger: Logger): ModelFactory | undefined {
  const common = {
    inputQueueMs: config.callerQueueMs,
    maxBufferedBytes: config.bufferedWarnBytes,
    heartbeatMs: config.heartbeatMs,
  };
  const instructions = config.openai.instructions;
  switch (config.backend) {
    case 'gemini-live': {
      const { gemini } = config;
      return ({ callerFormat, callId, settings }) =>
        new GeminiLiveSession({
          ...common, callerFormat, apiKey: gemini.apiKey ?? '', url: gemini.url, model: gemini.model,
          instructions: settings?.instructions ?? instructions,
          ...((settings?.voice ?? gemini.voice) === undefined ? {} : { voice: settings?.voice ?? gemini.voice }),
          ...(settings?.tools ? { tools: settings.tools } : {}),
          logger: logger.child({ callSid: callId, model: 'gemini-live' }),
        });
    }
    case 'deepgram-agent': {
      const { deepgram } = config;
      return ({ callerFormat, callId, settings }) =>
        new DeepgramAgentSession({
          ...common, callerFormat, apiKey: deepgram.apiKey ?? '', url: deepgram.url, instructions: settings?.instructions ?? instructions,
          ...(settings?.tools ? { tools: settings.tools } : {}),
          listenModel: deepgram.listenModel, thinkProvider: deepgram.thinkProvider, thinkModel: deepgram.thinkModel, speakModel: deepgram.speakModel,
          logger: logger.child({ callSid: callId, model: 'deepgram-agent' }),
        });
    }
    case 'elevenlabs-agent': {
      const { elevenlabs } = config;
      return ({ callerFormat, callId, settings }) =>
        new ElevenLabsAgentSession({
          ...common, callerFormat, apiKey: elevenlabs.apiKey ?? '', agentId: elevenlabs.agentId ?? '', url: elevenlabs.url,
          // The agent's own prompt stands unless INSTRUCTIONS or the setup sets one (overrides must be allowed on the agent).
          ...(settings?.instructions !== undefined ? { instructions: settings.instructions } : config.instructionsSet ? { instructions } : {}),
          // Tools are defined on the agent (dashboard); these are the names voicewire answers.
          ...(settings?.tools ? { tools: settings.tools } : {}),
          logger: logger.child({ callSid: callId, model: 'elevenlabs-agent' }),
        });
    }
    default:
      return undefined;
  }
}
