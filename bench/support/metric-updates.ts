import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What recording metrics costs, which cannot be switched off in the services: the updates a stretch of work made are
 * read from the difference of two scrapes (Prometheus text), then replayed on fresh prom-client objects in this
 * process many times and timed.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** `# TYPE` of each family. */
  types: Map<string, string>;
  /** Every sample, by name and labels. */
  samples: Map<string, Sample>;
}

/** One kind of update a stretch of work made, `times` times. */
export interface MetricUpdate {
  family: string;
  kind: 'counter' | 'histogram' | 'gauge-inc-dec';
  labels: Record<string, string>;
  times: number;
  /** A counter's total increment, or a histogram's mean observation. */
  value: number;
  buckets?: number[];
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, Sample>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSample(line);
    samples.set(sampleKey(sample.name, sample.labels), sample);
  }
  return { types, samples };
}

function parseSample(line: string): Sample {
  const brace = line.indexOf('{');
  const space = line.lastIndexOf(' ');
  if (space < 0) throw new Error(`not a sample: ${line.slice(0, 80)}`);
  const labels: Record<string, string> = {};
  let name = line.slice(0, space);
  if (brace >= 0 && brace < space) {
    name = line.slice(0, brace);
    const body = line.slice(brace + 1, line.lastIndexOf('}'));
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let match: RegExpExecArray | null;
    while ((match = label.exec(body)) !== null) {
      labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
  }
  return { name, labels, value: Number(line.slice(space + 1)) };
}

function sampleKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`);
  return `${name}{${sorted.join(',')}}`;
}

export interface UpdateFilter {
  /** Families computed at scrape time rather than updated by work (the Node.js process series): left out. */
  skipFamily: (family: string) => boolean;
  /** Label sets that the scrapes themselves move (the API's own `/metrics` requests): left out. */
  skipLabels: (labels: Record<string, string>) => boolean;
  /**
   * Counters that grow by an amount (tokens, bytes) rather than by one per event: one increment of their Δ. Any other
   * counter's Δ is its number of increments.
   */
  countsAmounts: (family: string) => boolean;
  /** A histogram whose every observation also made a gauge's inc and dec (requests in flight), not seen in scrapes. */
  pairedGauges?: Record<string, string>;
}

/**
 * The updates between two scrapes of one process: each histogram label set's observations (Δ count, at the mean
 * Δ sum) and each counter label set that grew (Δ increments of one, or one of Δ for an amount counter). Gauges are
 * left out (set at scrape time, or moved up and back down between scrapes), so this is a lower bound.
 */
export function updatesBetween(before: Exposition, after: Exposition, filter: UpdateFilter): MetricUpdate[] {
  const updates: MetricUpdate[] = [];
  for (const [family, type] of after.types) {
    if (filter.skipFamily(family)) continue;
    if (type === 'counter') {
      for (const sample of familySamples(after, family)) {
        const labels = withoutDefaults(sample.labels);
        if (filter.skipLabels(labels)) continue;
        const delta = sample.value - (before.samples.get(sampleKey(sample.name, sample.labels))?.value ?? 0);
        if (delta <= 0) continue;
        const byOne = !filter.countsAmounts(family) && Number.isInteger(delta);
        updates.push({ family, kind: 'counter', labels, times: byOne ? delta : 1, value: byOne ? 1 : delta });
      }
    } else if (type === 'histogram') {
      for (const sample of familySamples(after, `${family}_count`)) {
        const labels = withoutDefaults(sample.labels);
        if (filter.skipLabels(labels)) continue;
        const count = sample.value - (before.samples.get(sampleKey(sample.name, sample.labels))?.value ?? 0);
        if (count <= 0) continue;
        const sumKey = sampleKey(`${family}_sum`, sample.labels);
        const sum = (after.samples.get(sumKey)?.value ?? 0) - (before.samples.get(sumKey)?.value ?? 0);
        const buckets = bucketsOf(after, family, sample.labels);
        updates.push({ family, kind: 'histogram', labels, times: count, value: sum / count, buckets });
        const gauge = filter.pairedGauges?.[family];
        if (gauge) updates.push({ family: gauge, kind: 'gauge-inc-dec', labels: {}, times: count, value: 1 });
      }
    }
  }
  return updates;
}

function familySamples(exposition: Exposition, name: string): Sample[] {
  return [...exposition.samples.values()].filter((sample) => sample.name === name);
}

function bucketsOf(exposition: Exposition, family: string, labels: Record<string, string>): number[] {
  const want = sampleKey('', labels);
  return familySamples(exposition, `${family}_bucket`)
    .filter((sample) => {
      const { le, ...rest } = sample.labels;
      return le !== '+Inf' && sampleKey('', rest) === want;
    })
    .map((sample) => Number(sample.labels.le))
    .sort((a, b) => a - b);
}

/** `process` is a registry default label, added when a scrape is written, not on each update. */
function withoutDefaults(labels: Record<string, string>): Record<string, string> {
  const { process: _process, ...rest } = labels;
  return rest;
}

/** Update calls a list stands for: increments, observations, and a gauge's inc and dec as two. */
export function updateCalls(updates: readonly MetricUpdate[]): number {
  return updates.reduce((sum, u) => sum + (u.kind === 'gauge-inc-dec' ? 2 * u.times : u.times), 0);
}

export interface ReplayCost {
  iterations: number;
  /** CPU (user + system) of this process per replay of the whole list, in µs. */
  cpuUsPerReplay: number;
  wallUsPerReplay: number;
}

/**
 * Replays `updates` on fresh prom-client objects `iterations` times (after a tenth as warm-up) and times it, with any
 * `extra` replays (updates that go through another path, such as the Temporal core's buffer) in the same loop.
 */
export function replayCost(
  updates: readonly MetricUpdate[],
  iterations: number,
  extra: readonly (() => void)[] = [],
): ReplayCost {
  const registry = new Registry();
  const replays = [...updates.map((update) => replayer(registry, update, updates)), ...extra];
  const once = (): void => {
    for (const replay of replays) replay();
  };
  for (let i = 0; i < Math.ceil(iterations / 10); i++) once();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) once();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    iterations,
    cpuUsPerReplay: (used.user + used.system) / iterations,
    wallUsPerReplay: (wallMs * 1000) / iterations,
  };
}

function replayer(registry: Registry, update: MetricUpdate, all: readonly MetricUpdate[]): () => void {
  // One object per family, its label names the union over the family's updates (as the service declares them).
  const labelNames = [...new Set(all.filter((u) => u.family === update.family).flatMap((u) => Object.keys(u.labels)))];
  const existing = registry.getSingleMetric(update.family);
  const { labels, times, value } = update;
  if (update.kind === 'counter') {
    const counter =
      (existing as Counter | undefined) ??
      new Counter({ name: update.family, help: 'replay', labelNames, registers: [registry] });
    return () => {
      for (let i = 0; i < times; i++) counter.inc(labels, value);
    };
  }
  if (update.kind === 'histogram') {
    const histogram =
      (existing as Histogram | undefined) ??
      new Histogram({
        name: update.family,
        help: 'replay',
        labelNames,
        ...(update.buckets?.length ? { buckets: update.buckets } : {}),
        registers: [registry],
      });
    return () => {
      for (let i = 0; i < times; i++) histogram.observe(labels, value);
    };
  }
  const gauge =
    (existing as Gauge | undefined) ?? new Gauge({ name: update.family, help: 'replay', registers: [registry] });
  return () => {
    for (let i = 0; i < times; i++) {
      gauge.inc();
      gauge.dec();
    }
  };
}
