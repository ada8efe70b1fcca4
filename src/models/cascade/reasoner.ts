/**
 * The reasoning stage's contract: given the turn and the (bounded, heard-truncated) history,
 * stream the answer as text deltas. Consumers pull with `for await`, so a consumer that stops
 * pulling (a full sentence queue) stops the producer — for the HTTP LLM that means the response
 * body is no longer read, which is backpressure all the way into fetch.
 */
import type { ToolDefinition } from '../model.js';
import type { ChatMessage, ChatToolCall } from './history.js';

/** What the caller did this turn (or `tool-results`: function outputs are in the history, answer them). */
export type TurnInput =
  | { readonly kind: 'greeting' }
  | { readonly kind: 'tool-results' }
  | {
      readonly kind: 'utterance';
      /** The transcript, or undefined when no STT is configured. */
      readonly text: string | undefined;
      readonly durationMs: number;
      readonly levelDbfs: number;
      readonly truncated: boolean;
    };

/** Figures the gateway measured, for an agent that talks about them (the embedded demo does). */
export interface TurnFacts {
  /** Turns the caller has taken so far, this one included. */
  readonly turns: number;
  /** Times the caller interrupted the agent in this call. */
  readonly interruptions: number;
  /** The last barge-in: ms from the caller's speech onset until the agent's audio stopped. */
  readonly lastBargeInMs: number | undefined;
  /** Set when the previous response was cut off by the caller. */
  readonly interrupted: { readonly heard: string; readonly unheard: string } | undefined;
}

export interface ReasoningContext {
  /** Earlier turns, oldest first (this turn's user message is not in it). */
  readonly history: readonly ChatMessage[];
  readonly facts: TurnFacts;
  /** Aborted on barge-in: the producer stops and the iteration rejects with its reason. */
  readonly signal: AbortSignal;
  /** Functions the reasoner may call (reasoners that cannot call functions ignore them). */
  readonly tools?: readonly ToolDefinition[];
  /** A function call the answer made, reported once complete (before the iteration ends). */
  readonly onToolCall?: (call: ChatToolCall) => void;
}

export interface Reasoner {
  readonly name: string;
  /** Streams the answer as text deltas (any size: a token, a word, or 1000 tokens at once). */
  respond(input: TurnInput, context: ReasoningContext): AsyncIterable<string>;
  /** The user message this turn adds to the history ('' for none). */
  userMessage(input: TurnInput): string;
}
