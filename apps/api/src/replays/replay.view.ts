import type {
  ReplayArm,
  ReplayJudge,
  ReplayLimits,
  ReplayMode,
  ReplayProgress,
  ReplayStatus,
} from '#libs/contracts/replay.contract';
import type { ReplayEntity } from '#libs/db/entities/replay.entity';
import type { ReplaySelection } from '#libs/replay/replay-selection';

/** A replay as the routes show it. */
export interface ReplayView {
  id: string;
  status: ReplayStatus;
  mode: ReplayMode;
  selection: ReplaySelection;
  arms: ReplayArm[];
  judge: ReplayJudge | null;
  limits: ReplayLimits;
  seed: number;
  progress: ReplayProgress;
  error: { code: string; detail: string } | null;
  /** Find its runs in the Temporal UI with `ReplayId = "<id>"`; this is the parent's workflow id. */
  workflowId: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  links: { results: string; report: string };
}

export interface ReplayPage {
  items: ReplayView[];
  nextCursor: string | null;
}

/**
 * While it runs, the status is the workflow's (it may be paused a moment before the row says so); an end is the row's
 * to say, once the summary is stored with it.
 */
export function toReplayView(replay: ReplayEntity, progress: ReplayProgress): ReplayView {
  const running = replay.status === 'queued' || replay.status === 'running' || replay.status === 'paused';
  const live = progress.status === 'running' || progress.status === 'paused';
  const status: ReplayStatus = running ? (live ? progress.status : replay.status) : replay.status;
  return {
    id: replay.id,
    status,
    mode: replay.mode,
    selection: replay.selection,
    arms: replay.arms,
    judge: replay.judge,
    limits: replay.limits,
    seed: replay.seed,
    progress: { ...progress, status },
    error: replay.errorCode ? { code: replay.errorCode, detail: replay.errorDetail ?? '' } : null,
    workflowId: replay.workflowId,
    createdAt: replay.createdAt.toISOString(),
    startedAt: replay.startedAt?.toISOString() ?? null,
    completedAt: replay.completedAt?.toISOString() ?? null,
    links: { results: `/api/v1/replays/${replay.id}/results`, report: `/api/v1/replays/${replay.id}/report` },
  };
}
