export interface LaneSample<T> {
  index: number;
  lane: number;
  ms: number;
  value: T;
}

export interface LaneFailure {
  index: number;
  lane: number;
  message: string;
}

export interface LaneRun<T> {
  samples: LaneSample<T>[];
  failures: LaneFailure[];
  /** From the first turn's start to the last turn's end. */
  wallMs: number;
}

export interface LaneOptions {
  total: number;
  lanes: number;
  signal: AbortSignal;
  /** The run stops once more turns than this have failed. Default 10. */
  maxFailures?: number;
}

/**
 * Runs `total` turns over `lanes` concurrent lanes: each lane runs one turn at a time and takes the next turn number
 * as soon as its previous one ends (a closed loop, so concurrency stays at `lanes`). Latency is measured around
 * each call with `performance.now()`.
 */
export async function runLanes<T>(
  options: LaneOptions,
  turn: (lane: number, index: number) => Promise<T>,
): Promise<LaneRun<T>> {
  const samples: LaneSample<T>[] = [];
  const failures: LaneFailure[] = [];
  const maxFailures = options.maxFailures ?? 10;
  let next = 0;
  const lane = async (laneNo: number): Promise<void> => {
    while (next < options.total && failures.length <= maxFailures && !options.signal.aborted) {
      const index = next++;
      const started = performance.now();
      try {
        const value = await turn(laneNo, index);
        samples.push({ index, lane: laneNo, ms: performance.now() - started, value });
      } catch (error) {
        failures.push({ index, lane: laneNo, message: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: options.lanes }, (_, laneNo) => lane(laneNo)));
  const wallMs = performance.now() - started;
  options.signal.throwIfAborted();
  return { samples, failures, wallMs };
}

/** Throws when any turn of `run` failed (a warm-up must run clean before anything is measured). */
export function expectNoFailures(run: LaneRun<unknown>, what: string): void {
  if (run.failures.length > 0) {
    throw new Error(`${what}: ${run.failures.length} turns failed, first: ${run.failures[0]?.message ?? '?'}`);
  }
}
