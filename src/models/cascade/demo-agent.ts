/**
 * The embedded demo agent: the default reasoning stage when no LLM_URL is configured. It answers
 * from a built-in script (demo-script.ts) but streams like a language model — a short "thinking"
 * pause, then token-sized pieces at ~30 tokens/s with a little jitter — so the rest of the
 * pipeline (sentence splitting, TTS, played-ACK gating, barge-in) is exercised exactly as it is
 * with a real model.
 */
import { sleep } from './abortable.js';
import { composeAnswer } from './demo-script.js';
import type { Reasoner, ReasoningContext, TurnInput } from './reasoner.js';

export interface DemoAgentOptions {
  /** Streaming pace. Default 30 tokens/s. */
  readonly tokensPerSecond?: number;
  /** Relative jitter of each token's delay (0–1). Default 0.3. */
  readonly jitter?: number;
  /** Pause before the first token ("time to first token"). Default 250 ms. */
  readonly firstTokenDelayMs?: number;
  /** Seed of the jitter (deterministic runs). Default 1. */
  readonly seed?: number;
}

/** Roughly 4 characters per token, as in English BPE vocabularies. */
const CHARS_PER_TOKEN = 4;

/** Splits text into token-sized pieces that concatenate back to the text exactly. */
export function tokenize(text: string): string[] {
  const pieces: string[] = [];
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  for (const word of words) {
    if (word.length <= CHARS_PER_TOKEN + 2) {
      pieces.push(word);
      continue;
    }
    for (let at = 0; at < word.length; at += CHARS_PER_TOKEN) pieces.push(word.slice(at, at + CHARS_PER_TOKEN));
  }
  return pieces;
}

/** A small deterministic PRNG (mulberry32) for the pacing jitter; same seed, same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class DemoAgent implements Reasoner {
  readonly name = 'embedded-demo';
  private readonly tokenMs: number;
  private readonly jitter: number;
  private readonly firstTokenDelayMs: number;
  private readonly random: () => number;
  /** Utterance turns answered so far (selects the topic; only its remainder modulo the topics matters). */
  private answered = 0;

  constructor(options: DemoAgentOptions = {}) {
    const tps = options.tokensPerSecond ?? 30;
    this.tokenMs = tps > 0 && Number.isFinite(tps) ? 1000 / tps : 0;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.3));
    this.firstTokenDelayMs = Math.max(0, options.firstTokenDelayMs ?? 250);
    this.random = mulberry32(options.seed ?? 1);
  }

  userMessage(input: TurnInput): string {
    if (input.kind !== 'utterance') return '';
    return input.text ?? `[spoke for ${(input.durationMs / 1000).toFixed(1)} s]`;
  }

  async *respond(input: TurnInput, context: ReasoningContext): AsyncIterable<string> {
    const turnIndex = input.kind === 'greeting' ? 0 : this.answered;
    if (input.kind === 'utterance') this.answered = (this.answered + 1) % 1_000_000;
    const answer = composeAnswer(input, context.facts, turnIndex);
    if (this.firstTokenDelayMs > 0) await sleep(this.firstTokenDelayMs, context.signal);
    for (const token of tokenize(answer)) {
      if (this.tokenMs > 0) {
        const factor = 1 + this.jitter * (2 * this.random() - 1);
        await sleep(this.tokenMs * factor, context.signal);
      } else if (context.signal.aborted) {
        throw context.signal.reason;
      }
      yield token;
    }
  }
}
