import { ApiError, type ReplayApiClient, type ReplayState } from './replay-api-client';
import type { ReplayCommand } from './replay-args';
import { ProgressDisplay, type ProgressOutput } from './progress-display';

/** The CLI's exit codes. */
export const EXIT = { ok: 0, batchFailed: 1, refused: 2, interrupted: 130 } as const;

const ENDED = new Set<ReplayState['status']>(['completed', 'failed', 'cancelled']);
/** Polls that may fail in a row (the API restarting) before the CLI gives up following. */
const MAX_POLL_FAILURES = 10;

export interface CommandIo {
  stdout: { write(text: string): void };
  stderr: ProgressOutput;
  sleep(ms: number): Promise<void>;
  /** Aborted on ^C: the CLI stops following (the replay goes on). */
  signal: AbortSignal;
}

/**
 * Runs one command against the API: starts a replay (or attaches to one), shows its progress until it ends, prints the
 * report when asked. Returns the exit code: 0 completed with no failed conversation, 1 failed, cancelled or some
 * conversations failed, 2 the command or request was refused.
 */
export async function runReplayCommand(
  command: Exclude<ReplayCommand, { kind: 'help' }>,
  client: ReplayApiClient,
  io: CommandIo,
): Promise<number> {
  let replay: ReplayState;
  try {
    if (command.kind === 'start') {
      replay = await client.create(command.body, command.idempotencyKey);
      io.stderr.write(`replay ${replay.id}: ${replay.progress.conversations.total} conversations\n`);
      if (!command.wait) {
        io.stdout.write(`${replay.id}\n`);
        return EXIT.ok;
      }
    } else {
      replay = await client.get(command.replayId);
    }
  } catch (error) {
    io.stderr.write(`${refusal(error)}\n`);
    return EXIT.refused;
  }

  const display = new ProgressDisplay(io.stderr);
  let failures = 0;
  while (!ENDED.has(replay.status)) {
    display.update(replay);
    await io.sleep(io.stderr.isTTY ? 500 : 1000);
    if (io.signal.aborted) {
      io.stderr.write(`\nstopped following; the replay goes on. Attach again with --follow ${replay.id}\n`);
      return EXIT.interrupted;
    }
    try {
      replay = await client.get(replay.id);
      failures = 0;
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) {
        io.stderr.write(`\n${refusal(error)}\n`);
        return EXIT.refused;
      }
      if (++failures >= MAX_POLL_FAILURES) {
        io.stderr.write(`\ncannot reach the API (${refusal(error)}); the replay goes on: --follow ${replay.id}\n`);
        return EXIT.batchFailed;
      }
    }
  }
  display.finish(replay);

  if (command.report) {
    try {
      io.stdout.write(await client.report(replay.id, command.report));
    } catch (error) {
      io.stderr.write(`report: ${refusal(error)}\n`);
      return EXIT.batchFailed;
    }
  }
  const failed = replay.progress.conversations.failed;
  if (replay.status === 'completed' && failed === 0) {
    io.stderr.write(`replay ${replay.id} completed\n`);
    return EXIT.ok;
  }
  const why = replay.status === 'completed' ? `${failed} conversations failed` : replay.status;
  io.stderr.write(`replay ${replay.id} ${why}${replay.error ? `: ${replay.error.detail}` : ''}\n`);
  return EXIT.batchFailed;
}

function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fields.map((f) => `${f.field} ${f.message}`).join('; ');
    return `refused: ${error.status} ${error.code}: ${error.detail}${fields ? ` (${fields})` : ''}`;
  }
  return `failed: ${error instanceof Error ? error.message : String(error)}`;
}
