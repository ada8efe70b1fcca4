/**
 * What the embedded demo agent says. Pure functions of the turn and the gateway's measured
 * figures, so a first-time caller hears the gateway's behaviour described with real numbers:
 * how long they spoke, how often they interrupted, how fast the agent fell silent and which
 * words were dropped rather than played.
 */
import { cutAtWord, lastWords } from './heard.js';
import type { TurnFacts, TurnInput } from './reasoner.js';

export const GREETING =
  "Hello, and welcome to voicewire! I'm the demo agent built into the gateway, so everything you " +
  'hear is made right here, with no cloud services. Say anything you like. And when I answer, try ' +
  "interrupting me in the middle of a sentence: I'll stop, and tell you how quickly.";

/** Multi-sentence answers, one per turn, in order (then from the top again). */
export const TOPICS: readonly string[] = [
  "Here's what happens under the hood. Your voice goes through a voice activity detector inside the " +
    'gateway, and my answer is spoken one sentence at a time. Each new sentence waits until your ' +
    'phone confirms that the one before the previous has played. So there is never more than one ' +
    'sentence of my voice queued up ahead of you.',
  'Let me tell you about backpressure. Every queue in this gateway has a limit, counted in ' +
    'milliseconds of audio or in sentences. When your side is slow, the queue fills up to its limit ' +
    'and I simply pause, instead of piling up audio in memory. That is why a slow connection makes ' +
    'me wait, and never makes me talk over you later.',
  'Now, a word on interruptions. When you start talking over me, the gateway drops whatever audio ' +
    'is still queued, instead of flushing it to you. It also works out exactly which words you ' +
    'heard, so my memory of the conversation only holds what actually reached your ear.',
  'This demo can become a real assistant. Set STT URL for speech recognition, LLM URL for a ' +
    'language model, and TTS URL for a voice, each pointing at any OpenAI compatible server. Or give ' +
    'the gateway an OpenAI key, and it talks to the realtime model directly.',
  "Here's something worth trying. Interrupt me once after a long pause, and once right away. I'll " +
    'tell you how long each one took to silence me. Those numbers come from the gateway itself, ' +
    'not from a script.',
];

export const RESTART = "That's all I have to tell. Let's go around once more.";

/** Longest quote of the caller's words. */
const MAX_QUOTE_CHARS = 100;

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? s.toFixed(1) : String(Math.round(s));
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? `${n} ${one}` : `${n} ${many}`;
}

function ordinal(n: number): string {
  const words = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
  return words[n - 1] ?? `${n}th`;
}

/** What the caller did: their words (when transcribed) and how long they spoke. */
export function describeUtterance(input: Extract<TurnInput, { kind: 'utterance' }>, facts: TurnFacts): string {
  const parts: string[] = [];
  const text = input.text?.trim();
  if (text) {
    const [quote, rest] = cutAtWord(text, Math.min(1, MAX_QUOTE_CHARS / text.length));
    parts.push(`You said: "${quote}${rest ? '…' : ''}".`);
    parts.push(`That took you ${seconds(input.durationMs)} seconds.`);
  } else if (facts.turns <= 1) {
    parts.push(
      `I heard you speak for ${seconds(input.durationMs)} seconds. There's no speech recogniser ` +
        "in this demo, so I measure your voice instead of reading your words.",
    );
  } else {
    parts.push(`You spoke for ${seconds(input.durationMs)} seconds.`);
  }
  if (input.truncated) parts.push('That was longer than I keep in one go, so I listened to the first part only.');
  return parts.join(' ');
}

/** Where the previous answer was cut off, how fast, and what was dropped. */
export function describeInterruption(facts: TurnFacts): string {
  const cut = facts.interrupted;
  if (!cut) return '';
  const parts: string[] = [];
  // The last words heard, within the last sentence heard (a quote across sentences reads oddly).
  const heardTail = lastWords(cut.heard.split(/(?<=[.!?])\s+/).filter((p) => p.length > 0).at(-1) ?? '', 6);
  parts.push(heardTail ? `You interrupted me just after "${heardTail}".` : "You interrupted me before I'd said a word.");
  const dropped = cut.unheard.split(/\s+/).filter((w) => w.length > 0).length;
  if (facts.lastBargeInMs !== undefined) {
    parts.push(
      `My voice stopped ${Math.round(facts.lastBargeInMs)} milliseconds after you started talking, and the ` +
        `${plural(dropped, 'word', 'words')} I hadn't said yet were dropped, not played.`,
    );
  } else if (dropped > 0) {
    parts.push(`The ${plural(dropped, 'word', 'words')} I hadn't said yet were dropped, not played.`);
  }
  const next = firstWords(cut.unheard, 7);
  if (next) parts.push(`I was about to say "${next}…", but let's move on.`);
  parts.push(
    facts.interruptions <= 1
      ? 'That was your first interruption.'
      : `That was your ${ordinal(facts.interruptions)} interruption.`,
  );
  return parts.join(' ');
}

function firstWords(text: string, count: number): string {
  return text.trim().split(/\s+/).filter((w) => w.length > 0).slice(0, count).join(' ').replace(/[.,;:!?]+$/, '');
}

/** The full answer of turn `turnIndex` (0-based over utterance turns). */
export function composeAnswer(input: TurnInput, facts: TurnFacts, turnIndex: number): string {
  if (input.kind === 'greeting') return GREETING;
  // The demo agent calls no functions, so it is never asked to answer their outputs.
  if (input.kind === 'tool-results') return '';
  const topic = TOPICS[turnIndex % TOPICS.length] ?? '';
  const restart = turnIndex > 0 && turnIndex % TOPICS.length === 0 ? RESTART : '';
  return [describeUtterance(input, facts), describeInterruption(facts), restart, topic]
    .filter((p) => p.length > 0)
    .join(' ');
}
