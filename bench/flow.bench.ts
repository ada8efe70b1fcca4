/**
 * Flow primitives: operations per second, each against a reference measured in the same run
 * (machines are shared and noisy, so the ratios are what to read, not the absolute figures).
 *
 * - AudioQueue write+read vs a plain Array push/shift and vs a WHATWG ReadableStream whose
 *   queuing strategy sizes chunks by duration (what the queue would otherwise be built on).
 * - CreditGate spend + played report vs a bare counter doing the same arithmetic.
 * - SentenceSplitter chars/s on a long text, whole and token by token, vs a naive regex split.
 * - PlayoutTracker sent + confirm + estimate + itemAt per "frame".
 */
import { performance } from 'node:perf_hooks';
import { AudioQueue } from '../src/flow/audio-queue.js';
import { CreditGate } from '../src/flow/credit-gate.js';
import { PlayoutTracker } from '../src/flow/playout-tracker.js';
import { SentenceSplitter, splitSentences } from '../src/flow/sentence-splitter.js';
import { printTable, writeResults, type Row } from './report.js';

interface Chunk {
  readonly durationMs: number;
}

const CHUNK: Chunk = { durationMs: 20 };
const BATCH = 64;
const RUN_MS = 200;
const WARMUP_MS = 100;
const REPEATS = 5;

/** Median ops/s of `body`, which performs `opsPerCall` operations per call. */
async function measure(body: () => unknown, opsPerCall: number): Promise<number> {
  // Warm-up: let the JIT settle before measuring.
  for (const start = performance.now(); performance.now() - start < WARMUP_MS; ) await body();
  const rates: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let i = 0; i < 20; i++) await body();
      calls += 20;
      elapsed = performance.now() - start;
    }
    rates.push((calls * opsPerCall) / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

/**
 * Same as {@link measure} for synchronous bodies (no await per call, which would dominate);
 * `inner` calls run between two clock reads so cheap bodies are not measured as clock overhead.
 */
function measureSync(body: () => void, opsPerCall: number, inner = 1000): number {
  for (const start = performance.now(); performance.now() - start < WARMUP_MS; ) body();
  const rates: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let i = 0; i < inner; i++) body();
      calls += inner;
      elapsed = performance.now() - start;
    }
    rates.push((calls * opsPerCall) / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

async function queueRows(): Promise<Row[]> {
  const array: Chunk[] = [];
  const arrayRate = measureSync(() => {
    for (let i = 0; i < BATCH; i++) array.push(CHUNK);
    for (let i = 0; i < BATCH; i++) array.shift();
  }, BATCH, 20);

  const syncQueue = new AudioQueue<Chunk>({ highWaterMarkMs: 60_000 });
  const trySync = measureSync(() => {
    for (let i = 0; i < BATCH; i++) syncQueue.tryWrite(CHUNK);
    for (let i = 0; i < BATCH; i++) syncQueue.tryRead();
  }, BATCH, 20);

  const asyncQueue = new AudioQueue<Chunk>({ highWaterMarkMs: 60_000 });
  const asyncRate = await measure(async () => {
    for (let i = 0; i < BATCH; i++) await asyncQueue.write(CHUNK);
    for (let i = 0; i < BATCH; i++) await asyncQueue.read();
  }, BATCH);

  // The same traffic through a WHATWG ReadableStream with a duration-sized strategy.
  let controller!: ReadableStreamDefaultController<Chunk>;
  const stream = new ReadableStream<Chunk>(
    { start: (c) => void (controller = c) },
    { highWaterMark: 60_000, size: (chunk) => chunk.durationMs },
  );
  const reader = stream.getReader();
  const streamRate = await measure(async () => {
    for (let i = 0; i < BATCH; i++) controller.enqueue(CHUNK);
    for (let i = 0; i < BATCH; i++) await reader.read();
  }, BATCH);

  // A full producer/consumer hand-off: the writer waits for room on every chunk.
  const tight = new AudioQueue<Chunk>({ highWaterMarkMs: 20 });
  const handoffRate = await measure(async () => {
    const writing = (async () => {
      for (let i = 0; i < BATCH; i++) await tight.write(CHUNK);
    })();
    for (let i = 0; i < BATCH; i++) await tight.read();
    await writing;
  }, BATCH);

  return [
    { case: 'Array push/shift (reference)', 'ops/s': arrayRate, 'vs Array': 1, 'vs ReadableStream': arrayRate / streamRate },
    { case: 'ReadableStream enqueue/read, size strategy', 'ops/s': streamRate, 'vs Array': streamRate / arrayRate, 'vs ReadableStream': 1 },
    { case: 'AudioQueue tryWrite/tryRead', 'ops/s': trySync, 'vs Array': trySync / arrayRate, 'vs ReadableStream': trySync / streamRate },
    { case: 'AudioQueue await write/read', 'ops/s': asyncRate, 'vs Array': asyncRate / arrayRate, 'vs ReadableStream': asyncRate / streamRate },
    { case: 'AudioQueue hand-off, HWM = 1 chunk', 'ops/s': handoffRate, 'vs Array': handoffRate / arrayRate, 'vs ReadableStream': handoffRate / streamRate },
  ];
}

async function gateRows(): Promise<Row[]> {
  const counter = { credit: 800, sent: 0, played: 0 };
  const counterRate = measureSync(() => {
    if (counter.credit >= 20) {
      counter.credit -= 20;
      counter.sent += 20;
    }
    counter.played = counter.sent;
    counter.credit = Math.min(800, Math.max(0, 800 - (counter.sent - counter.played)));
  }, 1);

  const gate = new CreditGate({ windowMs: 800 });
  const tryRate = measureSync(() => {
    gate.trySpend(20);
    gate.played(gate.sentMs);
  }, 1);

  const asyncGate = new CreditGate({ windowMs: 800 });
  const spendRate = await measure(async () => {
    await asyncGate.spend(20);
    asyncGate.played(asyncGate.sentMs);
  }, 1);

  return [
    { case: 'bare counter (reference)', 'ops/s': counterRate, 'vs reference': 1 },
    { case: 'CreditGate trySpend + played', 'ops/s': tryRate, 'vs reference': tryRate / counterRate },
    { case: 'CreditGate await spend + played', 'ops/s': spendRate, 'vs reference': spendRate / counterRate },
  ];
}

const SAMPLE = [
  'Dr. Smith said the results were clear, e.g. the 3.14 ratio held in 12 of 13 trials.',
  'Wait... what? Prices rose to $29.99 at 5 p.m. and fell by 6 a.m. the next day!',
  'He wrote "see example.com/a.b for details." Then he left the U.S. for good.',
  'Honestly, I think that is a great question; let me explain it step by step — slowly.',
  '你好。今天天气很好！',
];

function longText(chars: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const sentence = SAMPLE[i % SAMPLE.length]!;
    parts.push(sentence);
    length += sentence.length + 1;
  }
  return parts.join(' ');
}

function splitterRows(): Row[] {
  const text = longText(100_000);
  const tokens = text.match(/\S+\s*|\s+/g) ?? [text];

  const naiveRate = measureSync(() => void text.split(/(?<=[.!?])\s+/), text.length, 1);
  const wholeRate = measureSync(() => void splitSentences(text), text.length, 1);
  const tokenRate = measureSync(() => {
    const splitter = new SentenceSplitter();
    for (const token of tokens) splitter.push(token);
    splitter.flush();
  }, text.length, 1);

  return [
    { case: 'naive regex split (reference)', 'chars/s': naiveRate, 'vs reference': 1 },
    { case: 'SentenceSplitter, whole text', 'chars/s': wholeRate, 'vs reference': wholeRate / naiveRate },
    { case: `SentenceSplitter, ${tokens.length} word tokens`, 'chars/s': tokenRate, 'vs reference': tokenRate / naiveRate },
  ];
}

function trackerRows(): Row[] {
  const tracker = new PlayoutTracker();
  let frame = 0;
  const rate = measureSync(() => {
    frame++;
    tracker.sent(`item-${frame >> 8}`, 20);
    tracker.confirm(Math.max(0, tracker.sentMs - 400), frame * 20);
    tracker.itemAt(tracker.estimatePlayed(frame * 20 + 10));
    if (frame % 50_000 === 0) tracker.reset();
  }, 1);
  const merged = tracker.segmentCount;
  return [{ case: 'PlayoutTracker sent + confirm + estimate + itemAt', 'ops/s': rate, segments: merged }];
}

export async function run(): Promise<void> {
  const queue = await queueRows();
  printTable('AudioQueue (64-chunk batches)', queue);
  const gate = await gateRows();
  printTable('CreditGate', gate);
  const splitter = splitterRows();
  printTable('SentenceSplitter (100 kB text)', splitter);
  const tracker = trackerRows();
  printTable('PlayoutTracker', tracker);
  const path = writeResults('flow', { queue, gate, splitter, tracker });
  console.log(`\nresults: ${path}`);
}
