/**
 * Live turns come first in a worker that also replays conversations. The live turn's steps report that they ran; a
 * replayed turn's model call (its generation, a judge's verdict) waits for room: while live turns ran in the last
 * moments only `whileLive` replayed calls run at once, otherwise `whenIdle`. A replay of thousands of turns then
 * takes the worker's spare time, not the time live users wait for.
 */
export interface StepPriority {
  /** A live turn's step ran now. */
  live(): void;
  /** Runs a replayed turn's model call when there is room for it. */
  batch<T>(work: () => Promise<T>): Promise<T>;
}

export interface LiveFirstOptions {
  /** Replayed calls at once while live turns run. Default 1. */
  whileLive?: number;
  /** Replayed calls at once otherwise (the replay queue's own slots bound them too). Default 16. */
  whenIdle?: number;
  /** How long after a live step the worker counts as busy with live turns. Default 2 s. */
  liveWindowMs?: number;
  /** While live turns run, the least time between the starts of two replayed calls. Default 100 ms. */
  spacingWhileLiveMs?: number;
  /** The clock (ms); default `performance.now`. */
  now?: () => number;
}

export class LiveFirstPriority implements StepPriority {
  private liveUntil = 0;
  private lastStart = Number.NEGATIVE_INFINITY; // the first call never waits, however young the clock
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly whileLive: number;
  private readonly whenIdle: number;
  private readonly liveWindowMs: number;
  private readonly spacingWhileLiveMs: number;
  private readonly now: () => number;

  constructor(options: LiveFirstOptions = {}) {
    this.whileLive = Math.max(1, options.whileLive ?? 1);
    this.whenIdle = Math.max(this.whileLive, options.whenIdle ?? 16);
    this.liveWindowMs = options.liveWindowMs ?? 2000;
    this.spacingWhileLiveMs = options.spacingWhileLiveMs ?? 100;
    // Monotonic: a wall clock stepped by the host (NTP) would shorten or stretch the spacing.
    this.now = options.now ?? (() => performance.now());
  }

  live(): void {
    this.liveUntil = this.now() + this.liveWindowMs;
  }

  /** Replayed calls allowed at once right now. */
  get room(): number {
    return this.now() < this.liveUntil ? this.whileLive : this.whenIdle;
  }

  /** While live turns run, how long a replayed call must still wait for its start (0: it may start now). */
  private spacing(): number {
    if (this.now() >= this.liveUntil) return 0;
    return Math.max(0, this.lastStart + this.spacingWhileLiveMs - this.now());
  }

  async batch<T>(work: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.running >= this.room) {
        await this.nextEnd();
        continue;
      }
      const wait = this.spacing();
      if (wait === 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    this.lastStart = this.now();
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Until a running call ends, or a short while (the live window may close meanwhile). */
  private nextEnd(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve();
      }, 100);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(wake);
    });
  }
}
