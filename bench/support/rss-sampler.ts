import { readFileSync } from 'node:fs';

export interface RssReport {
  /** Highest VmRSS seen by sampling. */
  peakMb: number;
  /** The kernel's own high-water mark (VmHWM), read at the last sample: catches peaks between two samples. */
  hwmMb: number;
  /** VmRSS at the first sample (the process had just become ready). */
  startMb: number;
  samples: number;
}

/** Samples a process's resident set size from /proc/<pid>/status (Linux) every `intervalMs`. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakKb = 0;
  private hwmKb = 0;
  private startKb: number | undefined;
  private count = 0;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling (after one last sample) and returns the figures. */
  stop(): RssReport {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sample();
    }
    return this.report();
  }

  report(): RssReport {
    const mb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;
    return { peakMb: mb(this.peakKb), hwmMb: mb(this.hwmKb), startMb: mb(this.startKb ?? 0), samples: this.count };
  }

  private sample(): void {
    let status: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return; // the process is gone (or this is not Linux)
    }
    const rss = field(status, 'VmRSS');
    const hwm = field(status, 'VmHWM');
    if (rss === undefined) return;
    this.count++;
    this.startKb ??= rss;
    this.peakKb = Math.max(this.peakKb, rss);
    if (hwm !== undefined) this.hwmKb = Math.max(this.hwmKb, hwm);
  }
}

function field(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
