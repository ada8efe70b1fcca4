/** The model a backend is configured to use, as `gen_ai.request.model` names it. */
import type { GatewayConfig } from './config.js';

export function requestModelName(config: GatewayConfig, backend: string): string {
  switch (backend) {
    case 'openai-realtime':
      return config.openai.model;
    case 'gemini-live':
      return config.gemini.model;
    case 'deepgram-agent':
      return config.deepgram.thinkModel;
    case 'elevenlabs-agent':
      return config.elevenlabs.agentId ?? 'elevenlabs-agent';
    case 'cascade':
      return config.cascade.llmUrl === undefined ? 'demo-agent' : config.cascade.llmModel;
    default:
      return backend;
  }
}
