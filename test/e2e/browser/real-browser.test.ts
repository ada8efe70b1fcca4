/**
 * Issue 6 in a real browser: Debian's Chromium, driven by playwright-core, opens the demo page the
 * gateway serves, presses Talk, and talks through Chromium's fake microphone, fed from a WAV file
 * made here with the offline TTS. The gateway runs the cascade backend with its embedded agent, so
 * the whole path is real: the page's AudioWorklets, the SDK, the socket, the gateway's energy VAD,
 * the demo agent, eSpeak NG. Only the microphone and the speaker are fakes.
 *
 * The mic file (Chromium loops it): 1 s of silence, a first phrase (the agent answers it), a pause,
 * a second phrase that barges in 1–2 s into that answer, then silence long enough for the test to
 * end before the loop comes round. Everything asserted comes from the page: the SDK's own figures
 * (`window.voicewireStats`, polled with waitForFunction) and a probe on the page's WebSocket
 * (page-probe.ts) that checks no old-epoch audio played after a `clear`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ClientStats } from '../../../client/src/stats.js';
import { OfflineTts } from '../../../src/models/cascade/tts-offline.js';
import { startGateway, type RunningGateway } from '../harness.js';
import { concat, normalise, silence, wavFile } from './audio.js';
import { PROBE_SCRIPT, stalePlayedMs, totalPlayedMs, type ProbeLog } from './page-probe.js';

const CHROMIUM = '/usr/bin/chromium';
const MIC_RATE = 16_000;
const FRAME_MS = 20;
const MAX_BARGE_IN_SILENCE_MS = 150;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Gitignored: the screenshot is for people (and CI uploads) to look at. */
const ARTIFACTS = join(ROOT, 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'real-browser-demo.png');

/** One sentence of the offline TTS at the mic rate, loud but not clipped. */
async function speak(tts: OfflineTts, text: string): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const chunk of tts.synthesize(text)) parts.push(chunk.slice());
  return normalise(concat(parts), 16_000);
}

/** The fake mic's script (see the header): ≈ 15 s, looped by Chromium. */
async function micScript(): Promise<Int16Array> {
  const tts = new OfflineTts({ outputRate: MIC_RATE });
  const first = await speak(tts, 'Hello there, can you hear me?');
  const second = await speak(tts, 'Wait, stop please.');
  return concat([silence(MIC_RATE, 1_000), first, silence(MIC_RATE, 2_600), second, silence(MIC_RATE, 8_000)]);
}

function buildClient(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-client.mjs')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `build-client failed: ${result.stderr}`);
}

async function stats(page: Page): Promise<ClientStats> {
  return page.evaluate<ClientStats>('window.voicewireStats');
}

/** Waits (polling the page, with a deadline) until `expression` holds in the page. */
async function pageCondition(page: Page, expression: string, timeoutMs: number): Promise<void> {
  await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 50 });
}

function fmt(ms: number | null): string {
  return ms === null ? '–' : ms.toFixed(1);
}

describe('the demo page in a real Chromium, through the real gateway (cascade + embedded agent)', { concurrency: false }, () => {
  let r: RunningGateway | undefined;
  let context: BrowserContext | undefined;
  let scratch: string | undefined;
  const pageErrors: string[] = [];

  before(async () => {
    buildClient();
    scratch = mkdtempSync(join(tmpdir(), 'voicewire-real-browser-'));
    const wav = join(scratch, 'mic.wav');
    writeFileSync(wav, wavFile(await micScript(), MIC_RATE));
    // The engine is per process and the gateway runs in this one: it is warm for the agent too.
    await new OfflineTts().warmUp();
    r = await startGateway({ MODEL_BACKEND: 'cascade' }, false, { cascade: { greet: false } });
    context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      viewport: { width: 1000, height: 760 },
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required',
      ],
    });
  });

  after(async () => {
    await context?.close();
    await r?.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  test('Talk: the answer plays within the window, a barge-in silences it within 150 ms, no old audio after the clear', async () => {
    assert.ok(context && r);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.addInitScript({ content: PROBE_SCRIPT });
    await page.goto(`${r.baseUrl}/`, { timeout: 10_000 });
    await page.click('#talk', { timeout: 5_000 });
    await pageCondition(page, "window.voicewireStats?.state === 'ready'", 10_000);

    // The first phrase is answered; the second barges in 1–2 s into the answer.
    await pageCondition(page, 'window.voicewireStats.bargeIns >= 1', 20_000);
    // The agent answers the interruption in the new epoch: the call goes on.
    await pageCondition(page, 'window.voicewireStats.epoch >= 1 && window.voicewireStats.playedMs >= 2000', 15_000);

    const s = await stats(page);
    const probe = await page.evaluate<ProbeLog>('window.__voicewireProbe');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 10_000 });

    // Stop hangs up: the page says so and the button is Talk again.
    await page.click('#talk', { timeout: 5_000 });
    await pageCondition(page, "document.querySelector('#talk').getAttribute('aria-pressed') === 'false'", 5_000);
    // Regression: stop() left the `ready` state before sending, so `bye` was never sent.
    const byes = await page.evaluate<number>('window.__voicewireProbe.byes');
    assert.equal(byes, 1, 'Stop says bye before closing');

    const interruption = probe.interruptions[0];
    const silences = probe.interruptions.map((i) => i.silenceMs ?? Infinity);
    const stale = stalePlayedMs(probe);
    console.log(
      `# real browser: played ${totalPlayedMs(probe).toFixed(0)} ms over ${Object.keys(probe.playedMs).length} epochs` +
        ` (first answer ${fmt(probe.playedMs['0'] ?? 0)} ms before the barge-in), window ${s.windowMs} ms`,
    );
    console.log(`# real browser: max buffered in player ${s.maxBufferedMs.toFixed(1)} ms, overflow frames ${s.framesOverflow}, underruns ${s.underruns}`);
    console.log(
      `# real browser: barge-in clear → silence ${silences.map((ms) => ms.toFixed(1)).join(', ')} ms (audio clock),` +
        ` ${fmt(interruption?.droppedMs ?? null)} ms dropped from the player, stale frames received and dropped ${s.framesDroppedStale},` +
        ` old-epoch audio played after clear ${stale.toFixed(1)} ms`,
    );
    console.log(
      `# real browser: played reports ${s.reportsSent}, interval mean ${fmt(s.reportIntervalMeanMs)} ms, max ${fmt(s.reportIntervalMaxMs)} ms;` +
        ` rtt ${fmt(s.rttMs)} ms; mic frames ${s.micFramesSent} sent, ${s.micFramesDropped} dropped; screenshot test-artifacts/real-browser-demo.png`,
    );

    assert.deepEqual(pageErrors, []);
    assert.equal(s.reconnects, 0);
    assert.equal(s.protocolErrors, 0);
    assert.ok((probe.playedMs['0'] ?? 0) >= 500, `the first answer played before the barge-in (${probe.playedMs['0']} ms)`);
    assert.ok(totalPlayedMs(probe) > 0 && s.playedMs > 0, 'the agent was heard');
    assert.ok(s.maxBufferedMs <= s.windowMs + FRAME_MS, `player held ${s.maxBufferedMs} ms (window ${s.windowMs})`);
    assert.equal(s.framesOverflow, 0, 'the gateway never sent past the window');
    assert.ok(probe.interruptions.length >= 1 && probe.clears >= 1);
    assert.ok(interruption !== undefined && interruption.droppedMs > 0, 'the barge-in dropped queued audio');
    assert.ok(Math.max(...silences) <= MAX_BARGE_IN_SILENCE_MS, `clear → silence ${silences.join(', ')} ms`);
    assert.equal(s.lastBargeInMs, interruption === undefined ? null : probe.interruptions.at(-1)?.silenceMs);
    assert.equal(stale, 0, 'no old-epoch audio played after the clear');
    assert.ok(s.reportsSent > 0 && s.reportIntervalMeanMs !== null && s.reportIntervalMeanMs <= 100, `played reports every ${s.reportIntervalMeanMs} ms on average`);
    assert.ok(s.micFramesSent > 0);
  });
});
