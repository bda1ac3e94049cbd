import type { ReplayState } from './replay-api-client';

const BAR_WIDTH = 24;

/** `1h 02m`, `3m 05s`, `12s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** One line of progress: conversations, answers, failures, ETA (plain: for logs and pipes). */
export function progressLine(replay: ReplayState): string {
  const { conversations: c, turns, tokens, etaSeconds } = replay.progress;
  const ended = c.done + c.failed + c.cancelled;
  return [
    `${replay.status}`,
    `conversations ${ended}/${c.total}`,
    `failed ${c.failed}`,
    ...(c.cancelled > 0 ? [`cancelled ${c.cancelled}`] : []),
    `answers ${turns.done}${turns.failed > 0 ? ` (+${turns.failed} failed)` : ''}`,
    `tokens ${tokens.prompt + tokens.completion}`,
    ...(etaSeconds !== null && ended < c.total ? [`ETA ${duration(etaSeconds)}`] : []),
  ].join(' · ');
}

/** The same, behind a bar, for a terminal: `[#########---------] 45% …`. */
export function progressBar(replay: ReplayState): string {
  const { total, done, failed, cancelled } = replay.progress.conversations;
  const ratio = total > 0 ? (done + failed + cancelled) / total : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${progressLine(replay)}`;
}

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Shows a replay's progress: on a terminal, one line redrawn in place (carriage return, erase line, cut to the
 * width); elsewhere a plain line whenever something changed, at most every `plainEveryMs`.
 */
export class ProgressDisplay {
  private lastLine = '';
  private lastPlainAt = 0;

  constructor(
    private readonly out: ProgressOutput,
    private readonly plainEveryMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  update(replay: ReplayState): void {
    if (this.out.isTTY) {
      const line = progressBar(replay).slice(0, Math.max(20, (this.out.columns ?? 100) - 1));
      if (line !== this.lastLine) this.out.write(`\r\x1b[2K${line}`);
      this.lastLine = line;
      return;
    }
    const line = progressLine(replay);
    const due = this.now() - this.lastPlainAt >= this.plainEveryMs;
    if (line !== this.lastLine && (due || this.lastLine === '')) {
      this.out.write(`${line}\n`);
      this.lastLine = line;
      this.lastPlainAt = this.now();
    }
  }

  /** The final state, always shown; a terminal's bar line is ended. */
  finish(replay: ReplayState): void {
    if (this.out.isTTY) {
      this.update(replay);
      this.out.write('\n');
    } else if (progressLine(replay) !== this.lastLine) {
      this.out.write(`${progressLine(replay)}\n`);
    }
  }
}
