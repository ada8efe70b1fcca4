/** In-memory transport and model that record what the session did to them, in order. */
import type { AudioFormat } from '../../src/audio/format.js';
import type { HeardPoint, HEARD_PENDING, ModelEvents, ModelSession } from '../../src/models/model.js';
import type { CallerTransport, OutboundAudio, TransportEvents } from '../../src/transports/transport.js';

export type TransportCall =
  | { kind: 'audio'; epoch: number; sentenceId: number; durationMs: number }
  | { kind: 'sentence-end'; epoch: number; sentenceId: number }
  | { kind: 'clear'; epoch: number }
  | { kind: 'close'; code: number; reason: string };

export class RecordingTransport implements CallerTransport {
  readonly kind = 'twilio' as const;
  events!: TransportEvents;
  readonly calls: TransportCall[] = [];
  /** The bytes of every audio send, in order, with its epoch (copies: the chunk's view is reused). */
  readonly sentBytes: { epoch: number; bytes: Uint8Array }[] = [];
  buffered = 0;

  attach(events: TransportEvents): void {
    this.events = events;
  }
  sendAudio(chunk: OutboundAudio): void {
    this.calls.push({ kind: 'audio', epoch: chunk.epoch, sentenceId: chunk.sentenceId, durationMs: chunk.durationMs });
    this.sentBytes.push({ epoch: chunk.epoch, bytes: chunk.bytes.slice() });
  }
  endSentence(epoch: number, sentenceId: number): void {
    this.calls.push({ kind: 'sentence-end', epoch, sentenceId });
  }
  clear(newEpoch: number): void {
    this.calls.push({ kind: 'clear', epoch: newEpoch });
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.calls.push({ kind: 'close', code, reason });
  }
  sentMs(epoch?: number): number {
    let total = 0;
    for (const c of this.calls) if (c.kind === 'audio' && (epoch === undefined || c.epoch === epoch)) total += c.durationMs;
    return total;
  }
  clears(): number[] {
    return this.calls.flatMap((c) => (c.kind === 'clear' ? [c.epoch] : []));
  }
}

export type ModelCall =
  | { kind: 'append'; durationMs: number }
  | { kind: 'interrupt'; heard: { itemId: string; audioEndMs: number } | undefined | typeof HEARD_PENDING }
  | { kind: 'heard'; heard: HeardPoint | undefined }
  | { kind: 'close' };

export class RecordingModel implements ModelSession {
  readonly backend = 'openai-realtime' as const;
  events!: ModelEvents;
  readonly calls: ModelCall[] = [];
  sentencesPlayed: number[] = [];
  constructor(readonly pausable: boolean, readonly format: AudioFormat) {}

  attach(events: ModelEvents): void {
    this.events = events;
  }
  async connect(): Promise<void> {}
  appendAudio(_bytes: Uint8Array, durationMs: number): void {
    this.calls.push({ kind: 'append', durationMs });
  }
  interrupt(heard: { itemId: string; audioEndMs: number } | undefined | typeof HEARD_PENDING): void {
    this.calls.push({ kind: 'interrupt', heard: typeof heard === 'object' ? { ...heard } : heard });
  }
  close(): void {
    this.calls.push({ kind: 'close' });
  }
  sentencePlayed(sentenceId: number): void {
    this.sentencesPlayed.push(sentenceId);
  }
  /** Delivers `ms` of μ-law audio (8 bytes/ms) as one delta. */
  deliver(responseId: string, ms: number, sentenceId = 0, itemId = `item-${responseId}`): Promise<void> {
    return this.events.audio({ responseId, itemId, sentenceId, bytes: new Uint8Array(ms * 8).fill(0x7f), durationMs: ms });
  }
}

/** A model that is told what was heard later (`heard()`), like every real backend. */
export class HearingModel extends RecordingModel {
  heard(heard: HeardPoint | undefined): void {
    this.calls.push({ kind: 'heard', heard: heard && { ...heard } });
  }
}

/** Lets queued promise continuations run (the session's pump is a loop of awaits). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
