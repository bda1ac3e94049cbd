/** What every benchmark section gets from the runner, and what it hands back. */

export interface BenchContext {
  /** The checkout's root (where package.json is); the services run from `<root>/dist`. */
  root: string;
  /** The environment the bench was started with: the one place a section reads settings from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM: long loops stop, and each section's `finally` cleans up. */
  signal: AbortSignal;
  /** Prints a line of the report. */
  print: (line?: string) => void;
}

export interface BenchResult {
  /** Also the JSON file's name: `.data/bench/<id>.json`. */
  id: string;
  /** Written as JSON. */
  data: unknown;
  /**
   * Problems that make the run invalid (failed requests, lost turns). Missed performance targets are not errors:
   * they are reported in `data` and printed, and the bench still exits 0.
   */
  errors: string[];
}

export interface BenchSection {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Reads a positive integer setting such as BENCH_TURNS; a bad value is an error, not a silent default. */
export function envInt(ctx: BenchContext, name: string, fallback: number, min = 1, max = 1_000_000): number {
  const raw = ctx.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function envChoice<T extends string>(ctx: BenchContext, name: string, choices: readonly T[], fallback: T): T {
  const raw = ctx.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  const found = choices.find((choice) => choice === raw);
  if (!found) throw new Error(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return found;
}
