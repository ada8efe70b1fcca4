/**
 * The settings for running as one replica of a fleet (issue 9): drain, admission limits, abuse
 * limits, the admin listener. Read by config.ts into `GatewayConfig.fleet`.
 */
import { BlockList, isIP } from 'node:net';
import { vwError } from '../errors.js';

/** What the fleet settings need of config.ts's reader (kept structural: no import back into it). */
export interface ConfigReader {
  readonly problems: string[];
  string(name: string): string | undefined;
  int(name: string, fallback: number, min: number, max: number): number;
}

/** A token bucket's refill rate and size; a rate of 0 turns the limit off. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export interface FleetConfig {
  /** How long live calls may go on after SIGTERM before they are ended with 1001. */
  readonly drainTimeoutMs: number;
  /** A Twilio stream must send `start` within this time (browser: `hello`, its own timeout). */
  readonly startTimeoutMs: number;
  /** Upgraded sockets still waiting for their `start`/`hello`; past it upgrades get 503. */
  readonly maxPendingStreams: number;
  /** Longest call; it is then ended with VW_ERR_CALL_TOO_LONG (4021). */
  readonly maxCallMs: number;
  /** Refuse to start without TWILIO_AUTH_TOKEN. */
  readonly requireSignatures: boolean;
  /** Peers whose X-Forwarded-For is believed (load balancers); empty: nobody's. */
  readonly trustedProxies: readonly string[];
  /** Per client address: HTTP POSTs (webhooks, /session). */
  readonly webhookRate: RateLimit;
  /** Per client address: WebSocket upgrades. */
  readonly upgradeRate: RateLimit;
  /** Client addresses tracked by each limiter (least recently seen forgotten first). */
  readonly rateLimitAddresses: number;
  /** Serve /metrics (and health) on this port only, not on the call listener. */
  readonly adminPort: number | undefined;
  /** Bearer token /metrics requires. */
  readonly metricsToken: string | undefined;
}

/** Reads and validates the fleet settings; problems go to `read.problems`. */
export function readFleetConfig(read: ConfigReader): FleetConfig {
  const adminPortRaw = read.string('ADMIN_PORT');
  return {
    drainTimeoutMs: read.int('DRAIN_TIMEOUT_MS', 300_000, 0, 3_600_000),
    startTimeoutMs: read.int('START_TIMEOUT_MS', 5_000, 100, 120_000),
    maxPendingStreams: read.int('MAX_PENDING_STREAMS', 500, 1, 100_000),
    maxCallMs: read.int('MAX_CALL_MS', 7_200_000, 1_000, 86_400_000),
    requireSignatures: readBoolean(read, 'REQUIRE_SIGNATURES', false),
    trustedProxies: readCidrList(read, 'TRUSTED_PROXIES'),
    webhookRate: { perSecond: read.int('WEBHOOK_RATE_PER_SEC', 20, 0, 100_000), burst: read.int('WEBHOOK_RATE_BURST', 40, 1, 1_000_000) },
    upgradeRate: { perSecond: read.int('UPGRADE_RATE_PER_SEC', 20, 0, 100_000), burst: read.int('UPGRADE_RATE_BURST', 40, 1, 1_000_000) },
    rateLimitAddresses: read.int('RATE_LIMIT_ADDRESSES', 10_000, 1, 1_000_000),
    adminPort: adminPortRaw === undefined ? undefined : read.int('ADMIN_PORT', 0, 0, 65535),
    metricsToken: read.string('METRICS_TOKEN'),
  };
}

function readBoolean(read: ConfigReader, name: string, fallback: boolean): boolean {
  const raw = read.string(name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  read.problems.push(`${name}=${JSON.stringify(raw)} must be true or false`);
  return fallback;
}

/** A comma-separated list of addresses and CIDR blocks (`10.0.0.0/8, 127.0.0.1, fd00::/8`). */
function readCidrList(read: ConfigReader, name: string): string[] {
  const entries = (read.string(name) ?? '').split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  for (const entry of entries) {
    if (parseCidr(entry) === undefined) read.problems.push(`${name}: ${JSON.stringify(entry)} is not an IP address or CIDR block`);
  }
  return entries;
}

/** `addr[/prefix]` as address, prefix and family; undefined when malformed. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A matcher for a validated CIDR list (IPv4-mapped IPv6 peers match their IPv4 blocks). */
export function cidrMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return (address) => {
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/** A configuration that works on one machine but not as a fleet (or not safely): logged at start-up. */
export interface StartupWarning {
  readonly code: 'VW_ERR_NO_AUTH_TOKEN' | 'VW_ERR_NO_SESSION_SECRET';
  readonly message: string;
}

/** The start-up warnings for a configuration (REQUIRE_SIGNATURES turns the first into a refusal). */
export function startupWarnings(config: { readonly twilioAuthToken: string | undefined; readonly sessionSecret: string | undefined }): StartupWarning[] {
  const warnings: StartupWarning[] = [];
  if (config.twilioAuthToken === undefined) {
    warnings.push({ code: 'VW_ERR_NO_AUTH_TOKEN', message: vwError('VW_ERR_NO_AUTH_TOKEN').message + ': anyone can start calls on your model account; set it (and REQUIRE_SIGNATURES=true) in production' });
  }
  if (config.sessionSecret === undefined) {
    warnings.push({ code: 'VW_ERR_NO_SESSION_SECRET', message: vwError('VW_ERR_NO_SESSION_SECRET').message + ': set the same SESSION_SECRET on every replica' });
  }
  return warnings;
}
