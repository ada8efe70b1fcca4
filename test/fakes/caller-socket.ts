/**
 * Small helpers of the fake carrier callers: opening the client socket the way a carrier does (with
 * its headers, a deadline, the refusal's status code), and speech stand-ins at a stream's rate.
 */
import { WebSocket } from 'ws';

/** Opens a client socket to `url`; rejects on a refused upgrade (`err.statusCode`) or after `timeoutMs`. */
export async function openSocket(url: string, headers: Readonly<Record<string, string>> = {}, timeoutMs = 5000): Promise<WebSocket> {
  return (await openCarrierSocket(url, headers, timeoutMs)).ws;
}

/** {@link openSocket}, with the headers of the server's 101 answer (e.g. a load balancer's X-Served-By). */
export async function openCarrierSocket(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 5000,
): Promise<{ ws: WebSocket; upgradeHeaders: Readonly<Record<string, string | string[] | undefined>> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers: { ...headers } });
  let upgradeHeaders: Readonly<Record<string, string | string[] | undefined>> = {};
  ws.once('upgrade', (res) => (upgradeHeaders = res.headers));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`fake caller: no connection to ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      ws.terminate();
      reject(Object.assign(new Error(`fake caller: upgrade refused with ${res.statusCode}`), { statusCode: res.statusCode }));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { ws, upgradeHeaders };
}

/** `ms` of a sine tone as PCM16 at `rate` (speech stand-in). */
export function toneAt(rate: number, ms: number, frequencyHz = 440, amplitude = 8000): Int16Array {
  const samples = new Int16Array(Math.round((ms * rate) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rate));
  return samples;
}

/** 8 kHz samples at `rate` by repeating samples (a tone stays a tone for any VAD). */
export function from8k(samples8k: Int16Array, rate: 8000 | 16000): Int16Array {
  if (rate === 8000) return samples8k;
  const out = new Int16Array(samples8k.length * 2);
  for (let i = 0; i < samples8k.length; i++) out[2 * i] = out[2 * i + 1] = samples8k[i] ?? 0;
  return out;
}
