/**
 * Issue 4 under real impairment: the caller sits behind 100 ms RTT and 5 % random loss each way,
 * with cubic congestion control (../shared/netimpair: namespaces, nftables loss, an NFQUEUE delay
 * line), so the gateway's caller socket sees real retransmissions and head-of-line stalls.
 *
 * Over a whole 20 s answer (produced at 5× real time) the per-call bounds must hold: the caller's
 * buffer within the credit window, the gateway's queue within MAX_QUEUED_AUDIO_MS and the socket's
 * bufferedAmount within the slow-consumer cut-off; and a barge-in must still end the old answer
 * (a `clear`, little stale audio, no old-epoch audio after it). Underruns are expected here
 * (a lost segment stalls the stream for an RTO) and are reported, not failed on.
 *
 * Each side runs as a child in its namespace (a process cannot move itself into one):
 * netimpair/gateway-side.ts (fake model + gateway, server ns) and netimpair/caller-side.ts (fake
 * Twilio caller, client ns). Needs root; without it, or if `netimpair up` fails, it skips loudly.
 * The measured figures are printed as `# netimpair: …` lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ChildScript, cannotRun, lossCounters, netimpair, tcpSegments } from './netimpair/netimpair-cli.js';
import type { CallerResult, GatewayFinal } from './netimpair/report.js';

/** Instance name and subnets (10.200.137.0/24, 10.200.138.0/24), chosen not to meet other users'. */
const NAME = 'vw_twilio';
const NET = '137';
const IMPAIRMENT = ['--rtt', '100ms', '--loss', '5%', '--cc', 'cubic'] as const;

const WINDOW_MS = 800;
const FRAME_MS = 20;
const ANSWER_MS = 20_000;
const QUEUE_CAP_MS = 30_000;
/** The gateway sends model audio in pieces of up to 100 ms; the sender holds one while it waits for credit. */
const SEND_PIECE_MS = 100;
/** SLOW_CONSUMER_BYTES default: past it (for SLOW_CONSUMER_MS) the gateway cuts the caller off. */
const HARD_CAP_BYTES = 1024 * 1024;
/**
 * Loose on purpose: detection (100 ms of speech) plus a one-way trip each way is ~200 ms, but a
 * lost segment holds the uplink speech or the downlink `clear` for an RTO (≥ 200 ms + RTT). A
 * broken barge-in (no clear, or a flush instead of a drop) plays seconds of stale audio.
 */
const STALE_BOUND_MS = 1_000;
/**
 * The truncation point (settled when the marker behind the clear comes back, timed on the caller's
 * audio clock) against what answer 2 had played when the clear arrived. The goal is 40 ms
 * (bench:netimpair measures it over many runs); the test's bound leaves room for a 2-core
 * machine shared with other work, and still fails the old estimate-at-barge-in, which missed
 * the audio played while the clear crossed the link.
 */
const TRUNCATE_BOUND_MS = 100;

const UP_TIMEOUT_MS = 5 * 60_000; // first use may apt-get install gcc, nftables … and compile
const CALLER_DEADLINE_MS = 90_000;
const GATEWAY_DEADLINE_MS = 100_000;

function fmt(n: number): string {
  return n.toFixed(0);
}

describe('Twilio ⇄ Realtime through the gateway under real impairment (netimpair)', { concurrency: false }, () => {
  let skipReason = cannotRun();
  let upAttempted = false;

  before(async () => {
    if (skipReason !== undefined) return;
    upAttempted = true;
    const args = ['up', ...IMPAIRMENT, '--net', NET];
    let up = await netimpair(NAME, args, UP_TIMEOUT_MS);
    // A first use installs packages: a concurrent apt/dpkg run can hold the lock once.
    if (up.code !== 0 && !up.timedOut) up = await netimpair(NAME, args, UP_TIMEOUT_MS);
    if (up.code !== 0) {
      skipReason = `\`netimpair up\` failed (exit ${up.code ?? up.signal}${up.timedOut ? ', timed out' : ''}): ${up.stderr.trim()}`;
    }
  }, { timeout: 2 * UP_TIMEOUT_MS + 10_000 });

  after(async () => {
    if (!upAttempted) return;
    const down = await netimpair(NAME, ['down'], 60_000);
    if (down.code !== 0) console.error(`netimpair down failed (exit ${down.code ?? down.signal}): ${down.stderr.trim()}`);
  });

  test('RTT 100 ms, 5 % loss, cubic: a whole 20 s answer stays within every bound, and barge-in still ends it', { timeout: 120_000 }, async (t) => {
    if (skipReason !== undefined) {
      console.error(`SKIPPED: twilio-netimpair: ${skipReason}`);
      t.skip(skipReason);
      return;
    }
    const startedAt = performance.now();
    const addr = await netimpair(NAME, ['addr', 'server'], 10_000);
    const serverIp = addr.stdout.trim();
    assert.match(serverIp, /^10\.200\.\d+\.2$/, `netimpair addr server: ${addr.stderr}`);

    // Its periodic samples are not needed here: the final line carries the maxima.
    const gatewaySide = new ChildScript(
      NAME, 'server', 'test/e2e/netimpair/gateway-side.ts', [JSON.stringify({ MAX_QUEUED_AUDIO_MS: String(QUEUE_CAP_MS) })],
      GATEWAY_DEADLINE_MS,
    );
    let callerSide: ChildScript | undefined;
    let result: CallerResult;
    let final: GatewayFinal;
    try {
      const listening = await gatewaySide.waitFor('listening', 30_000);
      const url = `ws://${serverIp}:${Number(listening.port)}/twilio/media`;
      callerSide = new ChildScript(NAME, 'client', 'test/e2e/netimpair/caller-side.ts', [url], CALLER_DEADLINE_MS);
      result = (await callerSide.waitFor('result', CALLER_DEADLINE_MS)) as unknown as CallerResult;
      const callerExit = await callerSide.exited;
      assert.equal(callerExit.code, 0, `caller side exited ${callerExit.code ?? callerExit.signal}\n${callerSide.log}`);
      gatewaySide.endInput();
      final = (await gatewaySide.waitFor('final', 15_000)) as unknown as GatewayFinal;
      await gatewaySide.exited;
    } finally {
      await callerSide?.stop();
      await gatewaySide.stop();
    }
    const { max } = final;
    const status = await netimpair(NAME, ['status'], 20_000);
    const loss = lossCounters(status.stdout);
    const clientTcp = tcpSegments((await netimpair(NAME, ['exec', 'client', '--', 'cat', '/proc/net/snmp'], 10_000)).stdout);
    const serverTcp = tcpSegments((await netimpair(NAME, ['exec', 'server', '--', 'cat', '/proc/net/snmp'], 10_000)).stdout);

    const { answer, bargeIn } = result;
    const pct = (lost = 0, seen = 0): string => (seen > 0 ? ((100 * lost) / seen).toFixed(1) : '?');
    console.log(`# netimpair: impairment RTT 100 ms, loss 5 % each way, cubic; took ${fmt(performance.now() - startedAt)} ms`);
    console.log(`# netimpair: 20 s answer: played ${fmt(answer.playedMs)} ms in ${fmt(answer.tookMs)} ms; max buffered at caller ${fmt(answer.maxBufferedMs)} ms (window ${WINDOW_MS}); underruns while speaking ${answer.underrunsWhileSpeaking}, total ${fmt(answer.underrunMsWhileSpeaking)} ms, longest ${fmt(answer.longestUnderrunMs)} ms`);
    console.log(`# netimpair: gateway max queuedMs ${fmt(max.queuedMs)} (cap ${QUEUE_CAP_MS}), max callerBufferedMs ${fmt(max.callerBufferedMs)}, max transport bufferedAmount ${max.transportBufferedBytes} B (cut-off ${HARD_CAP_BYTES}), max model bufferedAmount ${max.modelBufferedBytes} B; kernel Send-Q of the caller socket up to ${final.kernelSendQMax} B (ss every 250 ms); ${final.callSamples} samples with a live call`);
    console.log(`# netimpair: barge-in ${fmt(bargeIn.playedBeforeMs)} ms into answer 2: clear after ${fmt(bargeIn.clearAfterMs)} ms, stale audio ${fmt(bargeIn.staleMs)} ms, cleared ${fmt(bargeIn.clearedMs)} ms, old-epoch audio after clear ${fmt(bargeIn.oldEpochAudioAfterClearMs)} ms, next answer seen ${bargeIn.newEpochSeen}; model: cancels ${final.model.cancels.length}, truncates ${final.model.truncates.map((tr) => tr.audioEndMs).join(',') || 'none'}`);
    const truncateErrorMs = (final.model.truncates.at(-1)?.audioEndMs ?? NaN) - bargeIn.heardAtClearMs;
    console.log(`# netimpair: truncate ${final.model.truncates.at(-1)?.audioEndMs ?? 'none'} ms vs heard at the clear ${fmt(bargeIn.heardAtClearMs)} ms: error ${fmt(truncateErrorMs)} ms (bound ${TRUNCATE_BOUND_MS})`);
    console.log(`# netimpair: caller max buffered over the call ${fmt(result.maxBufferedMs)} ms; dry periods over the call ${result.underrunsTotal} (the ends of answers included)`);
    console.log(`# netimpair: nft loss counters: up ${loss.up_loss ?? '?'}/${loss.up_in ?? '?'} packets (${pct(loss.up_loss, loss.up_in)} %), down ${loss.down_loss ?? '?'}/${loss.down_in ?? '?'} packets (${pct(loss.down_loss, loss.down_in)} %)`);
    console.log(`# netimpair: TCP retransmitted segments: client ns ${clientTcp?.retransSegs ?? '?'}/${clientTcp?.outSegs ?? '?'}, server ns ${serverTcp?.retransSegs ?? '?'} (its OutSegs include the loopback model link)`);

    // The impairment was real: packets were dropped in both directions.
    assert.ok((loss.up_loss ?? 0) > 0 && (loss.down_loss ?? 0) > 0, `netimpair dropped nothing:\n${status.stdout}`);
    // The whole answer went through, and the bounds held all along.
    assert.ok(answer.playedMs >= ANSWER_MS - FRAME_MS, `only ${answer.playedMs} ms of the 20 s answer played`);
    assert.ok(final.callSamples >= 100, `the gateway side sampled a live call only ${final.callSamples} times`);
    assert.ok(result.maxBufferedMs <= WINDOW_MS + FRAME_MS, `caller buffered ${result.maxBufferedMs} ms`);
    assert.ok(max.callerBufferedMs <= WINDOW_MS + FRAME_MS, `gateway believed ${max.callerBufferedMs} ms in flight`);
    assert.ok(max.queuedMs <= QUEUE_CAP_MS + SEND_PIECE_MS, `queue reached ${max.queuedMs} ms`);
    assert.ok(max.transportBufferedBytes <= HARD_CAP_BYTES, `bufferedAmount reached ${max.transportBufferedBytes} B`);
    // Barge-in still ends the old answer.
    assert.ok(bargeIn.oldEpoch !== undefined, 'no mark arrived before the clear');
    assert.ok(bargeIn.staleMs <= STALE_BOUND_MS, `stale audio heard after speech began: ${bargeIn.staleMs} ms`);
    assert.equal(bargeIn.oldEpochAudioAfterClearMs, 0, 'audio of the interrupted answer arrived after the clear');
    assert.ok(final.model.truncates.length >= 1 && final.model.truncates.every((tr) => tr.ok), 'the model truncated its item at what was heard');
    assert.ok(Math.abs(truncateErrorMs) <= TRUNCATE_BOUND_MS, `truncate error ${truncateErrorMs} ms`);
    assert.deepEqual(result.violations, []);
  });
});
