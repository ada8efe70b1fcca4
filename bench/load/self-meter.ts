/**
 * CPU and event-loop lag of the bench's own process (the fake callers and the fake model), over a
 * window. Not a figure of the server: a check that the load generator kept up. A parent that lags
 * delivers audio and mark echoes late, and its callers would then count underruns that the server
 * under test did not cause.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 5;

export interface SelfMeasurement {
  /** CPU over the window, % of one core. */
  readonly cpuPercent: number;
  readonly lagP99Ms: number;
}

export class SelfMeter {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly cpu = process.cpuUsage();
  private readonly t0 = performance.now();

  constructor() {
    this.histogram.enable();
  }

  stop(): SelfMeasurement {
    const cpu = process.cpuUsage(this.cpu);
    const wallMs = performance.now() - this.t0;
    this.histogram.disable();
    return {
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      // The histogram records whole timer intervals: the lag is what exceeds the resolution.
      lagP99Ms: Math.max(0, this.histogram.percentile(99) / 1e6 - RESOLUTION_MS),
    };
  }
}
