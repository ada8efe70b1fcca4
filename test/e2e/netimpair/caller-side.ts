/**
 * Caller side of the netimpair end-to-end test, run in the client namespace through
 * `netimpair exec client -- node --import tsx test/e2e/netimpair/caller-side.ts <ws-url>`.
 *
 * One fake Twilio call over the impaired link: a question and its whole 20 s answer, then a second
 * question and a barge-in 3 s into its answer. Measures on the caller's own clock and prints
 * progress lines (`{"type":"phase",…}`) and one `{"type":"result",…}` line (CallerResult), then
 * hangs up and exits. Every wait has a deadline; a failed wait prints `{"type":"error",…}` and
 * exits 1.
 */
import { FakeTwilioCaller, toneSamples, type ReceivedEntry } from '../../fakes/twilio-caller.js';
import type { CallerResult } from './report.js';
import { emit, runChild } from './child-main.js';

const ANSWER_MS = 20_000;
const MULAW_BYTES_PER_MS = 8;
/** No message for this long after audio began: the answer ended short (e.g. cancelled). */
const QUIET_MS = 5_000;
const ANSWER_DEADLINE_MS = 50_000;
const BARGE_IN_AFTER_MS = 3_000;

/** Epoch of one of the gateway's mark names (`vw:<epoch>:…`), parsed here without the gateway's code. */
function markEpoch(entry: ReceivedEntry): number | undefined {
  if (entry.event !== 'mark' || entry.name === undefined) return undefined;
  const match = /^vw:(\d+):/.exec(entry.name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function lastMediaAt(entries: readonly ReceivedEntry[]): number {
  return entries.filter((e) => e.event === 'media').at(-1)?.at ?? 0;
}

/** Waits until the answer has played whole, or the link has gone quiet with nothing left to play. */
async function waitForAnswer(caller: FakeTwilioCaller, fromPlayedMs: number): Promise<void> {
  let seenTotal = caller.received.total;
  let lastMessageAt = caller.now();
  const done = (): boolean => {
    if (caller.received.total !== seenTotal) {
      seenTotal = caller.received.total;
      lastMessageAt = caller.now();
    }
    if (caller.playedMs - fromPlayedMs >= ANSWER_MS) return true;
    const started = caller.playedMs > fromPlayedMs;
    return started && caller.bufferedMs === 0 && caller.now() - lastMessageAt > QUIET_MS;
  };
  await caller.waitUntil(done, ANSWER_DEADLINE_MS, 'the whole answer played');
}

/** Audio received after entry `from` that a mark of epoch ≤ `oldEpoch` closed (ms). */
function oldEpochAudioAfter(entries: readonly ReceivedEntry[], from: number, oldEpoch: number): number {
  let pendingBytes = 0;
  let oldBytes = 0;
  for (const entry of entries.slice(from + 1)) {
    if (entry.event === 'media') pendingBytes += entry.bytes ?? 0;
    const epoch = markEpoch(entry);
    if (epoch === undefined) continue;
    if (epoch <= oldEpoch) oldBytes += pendingBytes;
    pendingBytes = 0;
  }
  return oldBytes / MULAW_BYTES_PER_MS;
}

async function main(): Promise<void> {
  const url = process.argv[2];
  if (url === undefined) throw new Error('usage: caller-side.ts <ws-url>');
  // A lost SYN costs a 1 s retransmission timeout: connecting gets a generous deadline.
  const caller = await FakeTwilioCaller.connect(url, { connectTimeoutMs: 15_000 });
  emit({ type: 'phase', phase: 'connected', at: caller.now() });

  // 1. A question and its whole 20 s answer.
  const askedAt = caller.now();
  await caller.sendSpeech(toneSamples(400));
  await waitForAnswer(caller, 0);
  const now = caller.now();
  const entries = caller.received.toArray();
  const lastMedia = lastMediaAt(entries);
  const speaking = caller.underruns.filter((u) => u.start >= askedAt && u.start < lastMedia);
  const underrunLengths = speaking.map((u) => (u.end ?? now) - u.start);
  const answer: CallerResult['answer'] = {
    playedMs: caller.playedMs,
    tookMs: now - askedAt,
    underrunsWhileSpeaking: speaking.length,
    underrunMsWhileSpeaking: underrunLengths.reduce((a, b) => a + b, 0),
    longestUnderrunMs: Math.max(0, ...underrunLengths),
    maxBufferedMs: caller.maxBufferedMs,
  };
  emit({ type: 'phase', phase: 'answer played', at: now, answer });

  // 2. A second question, and a barge-in 3 s into its answer.
  // (The question itself draws a clear today: the gateway treats the finished first answer as
  // still playing and truncates it at its end. Only a clear after the barge-in speech counts.)
  const playedBefore = caller.playedMs;
  await caller.sendSpeech(toneSamples(400));
  await caller.waitUntil(() => caller.playedMs - playedBefore >= BARGE_IN_AFTER_MS, 30_000, '3 s of the second answer played');
  const clearsBefore = caller.clears.total;
  const speechStartsAt = caller.now();
  const playedBeforeMs = caller.playedMs - playedBefore;
  const interrupting = caller.sendSpeech(toneSamples(1_000));
  await caller.waitUntil(() => caller.clears.total > clearsBefore, 10_000, 'clear after barge-in');
  const staleMs = caller.heardSince(speechStartsAt);
  const clear = caller.clears.last()!;
  // Nothing plays after the clear until the next answer: what of answer 2 had played when the
  // clear arrived (the truth a truncation is judged by) is everything played up to that moment.
  const heardAtClearMs = caller.playedMs - caller.heardSince(clear.at) - playedBefore;
  emit({ type: 'phase', phase: 'cleared', at: clear.at, staleMs });
  await interrupting;

  // 3. Whatever arrives after the clear must belong to a later epoch: wait for the next answer's
  // first mark (the fake's VAD answers the barge-in speech), then look at everything after the clear.
  const atClear = caller.received.toArray();
  const clearIndex = atClear.findLastIndex((e) => e.event === 'clear');
  const oldEpoch = atClear.slice(0, Math.max(0, clearIndex)).map(markEpoch).filter((e) => e !== undefined).at(-1);
  const isNewEpochMark = (e: ReceivedEntry | undefined): boolean =>
    e !== undefined && oldEpoch !== undefined && (markEpoch(e) ?? -1) > oldEpoch;
  let newEpochSeen = false;
  try {
    await caller.waitUntil(() => isNewEpochMark(caller.received.last()), 10_000, 'audio of the next answer');
    newEpochSeen = true;
  } catch (err) {
    emit({ type: 'phase', phase: 'no new answer', detail: String(err) });
  }
  const afterAll = caller.received.toArray();
  const clearAt = afterAll.findLastIndex((e) => e.event === 'clear' && e.at === clear.at);
  const result: CallerResult = {
    type: 'result',
    answer,
    bargeIn: {
      playedBeforeMs,
      clearAfterMs: clear.at - speechStartsAt,
      staleMs,
      heardAtClearMs,
      clearedMs: clear.droppedMs,
      oldEpoch,
      oldEpochAudioAfterClearMs: oldEpoch === undefined ? -1 : oldEpochAudioAfter(afterAll, clearAt, oldEpoch),
      newEpochSeen,
    },
    maxBufferedMs: caller.maxBufferedMs,
    underrunsTotal: caller.underruns.length,
    violations: caller.violations.toArray().map((v) => ({ kind: v.kind, detail: v.detail })),
    socketErrors: caller.socketErrors.total,
  };
  emit(result as unknown as Record<string, unknown>);
  await caller.stop();
}

runChild('caller side', main, 110_000);
