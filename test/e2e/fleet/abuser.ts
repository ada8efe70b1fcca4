/**
 * An abusive client in its own process (so its load does not share the callers' event loop):
 * WebSocket upgrades to /twilio/media that never send `start`, and a flood of webhooks with bad
 * signatures, from addresses of its own (127.0.0.x: the load balancer forwards them in
 * X-Forwarded-For). Prints one JSON line with what it saw, then exits.
 *   node --import tsx test/e2e/fleet/abuser.ts '<AbuseOptions as JSON>'
 */
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';

export interface AbuseOptions {
  readonly target: string;
  readonly idleSockets: number;
  /** Source addresses of the idle sockets, used in turn. */
  readonly idleFrom: readonly string[];
  /** Upgrades in flight at once. */
  readonly idleConcurrency: number;
  /** Upgrade headers of the idle sockets (a replayed X-Twilio-Signature: Twilio signs only the URL). */
  readonly idleHeaders: Readonly<Record<string, string>>;
  readonly webhooksPerSecond: number;
  readonly webhookSeconds: number;
  readonly webhookFrom: readonly string[];
}

export interface AbuseReport {
  /** Idle sockets: upgrades answered 101, refused by status, failed otherwise. */
  readonly idleOpened: number;
  readonly idleRefused: Record<string, number>;
  readonly idleErrors: number;
  /** Close codes the opened idle sockets got from the gateway. */
  readonly idleCloseCodes: Record<string, number>;
  readonly webhooksSent: number;
  readonly webhookStatuses: Record<string, number>;
  /** Webhooks the schedule was late for by more than 1 s (the generator could not keep up). */
  readonly webhooksBehind: number;
  /** CPU seconds this process used (it shares the machine with the gateways). */
  readonly cpuSeconds: number;
}

function count(map: Record<string, number>, key: string | number): void {
  map[key] = (map[key] ?? 0) + 1;
}

async function idleSockets(o: AbuseOptions, report: { opened: number; refused: Record<string, number>; errors: number; closes: Record<string, number> }): Promise<void> {
  const closed: Array<Promise<void>> = [];
  let next = 0;
  const openOne = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://${o.target}/twilio/media`, { localAddress: o.idleFrom[i % o.idleFrom.length], perMessageDeflate: false, headers: { ...o.idleHeaders } });
      let refused = false;
      ws.once('open', () => {
        report.opened++;
        closed.push(new Promise((done) => ws.once('close', (code) => (count(report.closes, code), done()))));
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        refused = true;
        count(report.refused, res.statusCode ?? 0);
        res.resume();
        ws.terminate();
        resolve();
      });
      ws.on('error', () => {
        if (!refused) report.errors++;
        refused = true;
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (next < o.idleSockets) await openOne(next++);
  };
  await Promise.all(Array.from({ length: o.idleConcurrency }, worker));
  // Every opened socket must be closed by the gateway (START_TIMEOUT_MS); bounded by the test's own deadline.
  await Promise.all(closed);
}

async function webhookFlood(o: AbuseOptions, report: { sent: number; statuses: Record<string, number>; behind: number }): Promise<void> {
  const agents = o.webhookFrom.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 32, localAddress }));
  const [host, port] = o.target.split(':');
  const total = o.webhooksPerSecond * o.webhookSeconds;
  const startedAt = performance.now();
  const inFlight = new Set<Promise<void>>();
  const body = 'CallSid=CAbad&From=%2B15550100&AccountSid=ACbad';
  for (let i = 0; i < total; i++) {
    const dueAt = startedAt + (i * 1000) / o.webhooksPerSecond;
    const wait = dueAt - performance.now();
    if (wait > 1) await delay(wait);
    else if (wait < -1000) report.behind++;
    const sending = new Promise<void>((resolve) => {
      const req = request(
        { host, port: Number(port), method: 'POST', path: '/twilio/voice', agent: agents[i % agents.length], headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), 'x-twilio-signature': 'forged' } },
        (res) => {
          count(report.statuses, res.statusCode ?? 0);
          res.resume();
          res.once('end', resolve);
        },
      );
      req.once('error', () => (count(report.statuses, 'error'), resolve()));
      req.end(body);
    });
    report.sent++;
    inFlight.add(sending);
    void sending.then(() => inFlight.delete(sending));
  }
  await Promise.all(inFlight);
  for (const agent of agents) agent.destroy();
}

const options = JSON.parse(process.argv[2] ?? '{}') as AbuseOptions;
const idle = { opened: 0, refused: {}, errors: 0, closes: {} };
const hooks = { sent: 0, statuses: {}, behind: 0 };
await Promise.all([idleSockets(options, idle), webhookFlood(options, hooks)]);
const report: AbuseReport = {
  idleOpened: idle.opened,
  idleRefused: idle.refused,
  idleErrors: idle.errors,
  idleCloseCodes: idle.closes,
  webhooksSent: hooks.sent,
  webhookStatuses: hooks.statuses,
  webhooksBehind: hooks.behind,
  cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
};
console.log(JSON.stringify(report));
