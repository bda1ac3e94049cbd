import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc figures (USER_HZ); 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

interface Snapshot {
  at: number;
  machineBusy: number;
  machineTotal: number;
  processes: Map<string, number>;
  self: NodeJS.CpuUsage;
}

export interface CpuReport {
  wallS: number;
  /** Share of all cores busy during the interval (every process of the machine, ours or not), in %. */
  machineBusyPct: number;
  cores: number;
  /** CPU seconds each named process used during the interval; `bench` is this process. */
  cpuS: Record<string, number>;
}

/** Measures CPU use of the machine and of a few processes between `start()` and `stop()` (Linux /proc). */
export class CpuMeter {
  private first: Snapshot | undefined;

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    this.first = this.snapshot();
    return this;
  }

  stop(): CpuReport {
    const first = this.first ?? this.snapshot();
    const last = this.snapshot();
    const cpuS: Record<string, number> = {
      bench: round2((last.self.user + last.self.system - first.self.user - first.self.system) / 1e6),
    };
    for (const [name, ticks] of last.processes) {
      const before = first.processes.get(name);
      if (before !== undefined) cpuS[name] = round2((ticks - before) / TICKS_PER_SECOND);
    }
    const total = last.machineTotal - first.machineTotal;
    return {
      wallS: round2((last.at - first.at) / 1000),
      machineBusyPct: total > 0 ? Math.round(((last.machineBusy - first.machineBusy) / total) * 1000) / 10 : NaN,
      cores: cpus().length,
      cpuS,
    };
  }

  private snapshot(): Snapshot {
    const processes = new Map<string, number>();
    for (const [name, pid] of Object.entries(this.pids)) {
      const ticks = processTicks(pid);
      if (ticks !== undefined) processes.set(name, ticks);
    }
    const { busy, total } = machineTicks();
    return { at: performance.now(), machineBusy: busy, machineTotal: total, processes, self: process.cpuUsage() };
  }
}

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ": utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((sum, x) => sum + x, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * The local MySQL/MariaDB server, the Temporal dev server listening on `temporalPort` and the SeaweedFS object store
 * (`weed`), when they run on this machine (found by reading /proc, for CPU accounting only).
 */
export function findServicePids(temporalPort: string): Record<string, number> {
  const found: Record<string, number> = {};
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const entry of entries) {
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mysqld' || comm === 'mariadbd') found.mysql ??= Number(entry);
      if (comm === 'weed') found.weed ??= Number(entry);
      if (comm === 'temporal' || comm === 'temporalite') {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const portAt = args.indexOf('--port');
        const port =
          portAt >= 0 ? args[portAt + 1] : (args.find((arg) => arg.startsWith('--port='))?.slice(7) ?? '7233');
        if (args.includes('start-dev') && port === temporalPort) found.temporal ??= Number(entry);
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/**
 * Waits until the machine is quiet: busy under `maxBusyPct` % of all cores over one `windowMs` window, or `timeoutMs`
 * at most. A round of ingestion leaves MySQL work behind (full-text cache syncs, purge, page flushing) that would
 * otherwise land in the next round, whichever side that is.
 */
export async function waitUntilQuiet(
  options: { maxBusyPct?: number; windowMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const { maxBusyPct = 10, windowMs = 500, timeoutMs = 30_000, signal } = options;
  const started = performance.now();
  let before = machineTicks();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    signal?.throwIfAborted();
    const now = machineTicks();
    const total = now.total - before.total;
    const busyPct = total > 0 ? ((now.busy - before.busy) / total) * 100 : 0;
    before = now;
    if (busyPct < maxBusyPct || performance.now() - started >= timeoutMs) return;
  }
}
