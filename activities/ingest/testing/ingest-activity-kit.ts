import { asyncLocalStorage, Context, type Info } from '@temporalio/activity';
import { noopMetricMeter } from '@temporalio/common';
import type { IngestFileRef } from '#libs/contracts/ingest-file.contract';
import { createLogger } from '#libs/logging/logger';

/** For the ingest activities' unit specs: the file every spec ingests, and a logger that writes nothing. */
export const FILE: IngestFileRef = {
  fileId: '6f1c1f0e-7d7a-4c2b-9a55-0d4b3c2a1f00',
  userId: 'a3c5e7f9-1b2d-4e6f-8a0b-1c2d3e4f5a6b',
  requestId: 'r1',
};

export const silentLogger = createLogger({ level: 'silent', name: 'ingest-spec' });

const quietLog = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * What an activity sees of Temporal when a unit spec calls it directly: `Context.current()` with the heartbeat
 * details of an earlier attempt, the heartbeats it sends, and a cancellation the spec can request.
 */
export class FakeActivityContext {
  /** Every heartbeat's details, in order. */
  readonly beats: unknown[] = [];
  private readonly abort = new AbortController();
  private readonly context: Context;

  constructor(options: { heartbeatDetails?: unknown; attempt?: number } = {}) {
    const info = {
      attempt: options.attempt ?? (options.heartbeatDetails === undefined ? 1 : 2),
      heartbeatDetails: options.heartbeatDetails,
    } as unknown as Info;
    this.context = new Context(
      info,
      new Promise<never>(() => undefined),
      this.abort.signal,
      (details: unknown) => this.beats.push(details),
      undefined,
      quietLog,
      noopMetricMeter,
      {},
    );
  }

  /** The details of the last heartbeat: what the next attempt would be given. */
  get lastBeat(): unknown {
    return this.beats.at(-1);
  }

  cancel(): void {
    this.abort.abort();
  }

  /** Runs `fn` as the activity's body, with this context current. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return asyncLocalStorage.run(this.context, fn);
  }
}
