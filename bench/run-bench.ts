/**
 * `npm run bench`: runs the benchmark sections against the real local services (MySQL, Redis, a Temporal dev server
 * at TEMPORAL_ADDRESS) with the services built in `dist/`, prints each section's figures and writes them to
 * `.data/bench/<section>.json`.
 *
 * Settings (environment): BENCH_ONLY=<id,…> picks sections; see each section for its own (chat-turns: BENCH_TURNS,
 * BENCH_CONCURRENCY, BENCH_WARMUP, BENCH_BREAKDOWN_SAMPLE, BENCH_VARIANTS=auto|on|off; replay:
 * BENCH_REPLAY_CONVERSATIONS, BENCH_REPLAY_TURNS, BENCH_REPLAY_CONCURRENCY, BENCH_LIVE_LANES,
 * BENCH_LIVE_BASELINE_TURNS; tools: BENCH_TOOL_TURNS; observability: BENCH_OBS_TURNS, BENCH_OBS_BLOCKS,
 * BENCH_OBS_CONCURRENCY, BENCH_OBS_WARMUP, BENCH_OBS_SCRAPE_MS, BENCH_OBS_OTLP_PROTOCOL, BENCH_OBS_BSP_DELAY_MS,
 * BENCH_OBS_UPDATE_TURNS, BENCH_OBS_REPLAYS; web-client: BENCH_WEB_LOADS, BENCH_WEB_SCROLLS).
 *
 * Exit code 0 when every section ran, whether or not its targets were met (targets are reported, not asserted);
 * 1 when a section failed (a service did not start, turns failed, cleanup failed); 130 when interrupted.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { BenchContext, BenchSection } from './bench-section';
import { chatTurnsSection } from './chat-turns.bench';
import { encryptionSection } from './encryption.bench';
import { ingestSection } from './ingest.bench';
import { loginsSection } from './logins.bench';
import { observabilitySection } from './observability.bench';
import { replaySection } from './replay.bench';
import { retrievalSection } from './retrieval.bench';
import { streamingSection } from './streaming.bench';
import { toolsSection } from './tools.bench';
import { webClientSection } from './web-client.bench';

/** Every section, in the order they run. Add new ones (auth, retrieval, …) here. */
const SECTIONS: BenchSection[] = [
  chatTurnsSection,
  loginsSection,
  streamingSection,
  ingestSection,
  encryptionSection,
  retrievalSection,
  replaySection,
  toolsSection,
  observabilitySection,
  webClientSection,
];

async function main(): Promise<number> {
  const root = projectRoot(__dirname);
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const unknown = only.filter((id) => !SECTIONS.some((section) => section.id === id));
  if (unknown.length > 0) {
    console.error(
      `BENCH_ONLY: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`,
    );
    return 1;
  }
  const selected = only.length > 0 ? SECTIONS.filter((section) => only.includes(section.id)) : SECTIONS;

  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130); // a second ^C: leave now (children are killed on exit)
    interrupted = true;
    console.error(`\n${signal}: stopping and cleaning up (again to quit at once)…`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: BenchContext = {
    root,
    env: { ...process.env },
    signal: controller.signal,
    print: (line = '') => console.log(line),
  };

  let failed = false;
  for (const section of selected) {
    console.log(`\n=== ${section.title} ===`);
    try {
      const result = await section.run(ctx);
      const file = resolve(root, '.data/bench', `${result.id}.json`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify({ ...(result.data as object), errors: result.errors }, null, 2)}\n`);
      console.log(`\nresults written to ${file}`);
      if (result.errors.length > 0) {
        failed = true;
        for (const error of result.errors) console.error(`error: ${error}`);
      }
    } catch (error) {
      failed = true;
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(controller.signal.aborted ? `\n${section.id}: interrupted` : `\n${section.id} failed: ${detail}`);
    }
    if (interrupted) return 130;
  }
  return failed ? 1 : 0;
}

/** The checkout's root: the nearest directory above this file with a package.json (this file runs from dist/bench). */
function projectRoot(from: string): string {
  let dir = from;
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

// Exit explicitly: everything was closed, and a stray keep-alive socket must not keep a finished bench waiting.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
