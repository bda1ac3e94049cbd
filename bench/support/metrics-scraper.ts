/**
 * Scrapes Prometheus endpoints every `intervalMs` while started, as Prometheus would (one scrape of a target at a
 * time: a tick whose previous scrape of that target has not finished is skipped), and counts what it did.
 */
export interface ScrapeTarget {
  name: string;
  url: string;
}

export interface ScrapeCounts {
  scrapes: Record<string, number>;
  failures: number;
  firstFailure?: string;
  /** Mean time a scrape took, as this process saw it (ms). */
  meanMs: number;
  /** Mean size of a scrape's body (bytes), per target. */
  meanBytes: Record<string, number>;
}

export class MetricsScraper {
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  private readonly scrapes: Record<string, number> = {};
  private readonly bytes: Record<string, number> = {};
  private failures = 0;
  private firstFailure: string | undefined;
  private totalMs = 0;

  constructor(
    private readonly targets: readonly ScrapeTarget[],
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  /** Stops scraping and waits for the scrapes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.busy.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  counts(): ScrapeCounts {
    const total = Object.values(this.scrapes).reduce((sum, n) => sum + n, 0);
    const meanBytes = Object.fromEntries(
      Object.entries(this.bytes).map(([name, bytes]) => [
        name,
        Math.round(bytes / Math.max(1, this.scrapes[name] ?? 0)),
      ]),
    );
    return {
      scrapes: { ...this.scrapes },
      failures: this.failures,
      ...(this.firstFailure ? { firstFailure: this.firstFailure } : {}),
      meanMs: total > 0 ? Math.round((this.totalMs / total) * 10) / 10 : 0,
      meanBytes,
    };
  }

  private tick(): void {
    for (const target of this.targets) {
      if (this.busy.has(target.name)) continue;
      this.busy.add(target.name);
      void this.scrape(target).finally(() => this.busy.delete(target.name));
    }
  }

  private async scrape(target: ScrapeTarget): Promise<void> {
    const started = performance.now();
    try {
      const body = await scrapeText(target.url);
      this.totalMs += performance.now() - started;
      this.scrapes[target.name] = (this.scrapes[target.name] ?? 0) + 1;
      this.bytes[target.name] = (this.bytes[target.name] ?? 0) + body.length;
    } catch (error) {
      this.failures++;
      this.firstFailure ??= `${target.name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

/** One scrape's body; throws unless the answer is 200. */
export async function scrapeText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
  return body;
}
