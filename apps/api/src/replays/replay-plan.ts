import { randomInt } from 'node:crypto';
import type { ReplayArm, ReplayJudge, ReplayLimits } from '#libs/contracts/replay.contract';
import type { Database } from '#libs/db/database';
import type { ReadableConversationFilter } from '#libs/db/repositories/replay.repository';
import { CommonError, ValidationError } from '#libs/errors/app-error';
import { ModelCatalog, OFFLINE_MODEL } from '#libs/llm/provider-registry';
import { DEFAULT_JUDGE_RUBRIC } from '#libs/replay/replay-judge';
import type { ReplaySelection } from '#libs/replay/replay-selection';
import type { Principal } from '../auth/principal';
import { searchTerms, toBooleanQuery } from '../search/message-search-query';
import type { CreateReplayDto } from './dto/create-replay.dto';

/** A selection larger than this needs `limits.maxConversations` to confirm it. */
export const CONFIRM_CONVERSATIONS_ABOVE = 10_000;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_CONVERSATIONS_PER_RUN = 500;
/** Ids per `IN (…)` when checking which named conversations the caller may read. */
const ACCESS_CHECK_BATCH = 1000;
/** Conversations named in a 404 (the problem's `conversationIds` lists up to 100). */
const NAMED_IN_DETAIL = 10;

/** What a valid request resolves to, before anything is written. */
export interface ReplayPlan {
  arms: ReplayArm[];
  judge: ReplayJudge | null;
  seed: number;
  limits: ReplayLimits;
  selection: ReplaySelection;
  /** The conversations, in the order the replay takes them. */
  conversationIds: string[];
  total: number;
}

/** What planning reads: the conversations the caller may read, and the models this deployment serves. */
export interface ReplayPlanDeps {
  db: Database;
  models: ModelCatalog;
}

/**
 * Checks a replay request against the configuration and the caller's access and resolves its selection to the
 * conversations the replay takes. Writes nothing: a request that is not valid in every part is refused whole.
 */
export async function planReplay(
  { db, models }: ReplayPlanDeps,
  principal: Principal,
  dto: CreateReplayDto,
): Promise<ReplayPlan> {
  const problems: { field: string; message: string }[] = [];
  const served = (model: string, field: string): void => {
    if (!models.has(model)) problems.push({ field, message: 'is not served; GET /api/v1/models lists the models' });
  };
  dto.arms.forEach((arm, index) => served(arm.model, `arms.${index}.model`));
  if (dto.judge) {
    served(dto.judge.model, 'judge.model');
    if (dto.judge.against === 'first-arm' && dto.arms.length < 2) {
      problems.push({ field: 'judge.against', message: 'first-arm needs at least two arms' });
    }
  }
  const providerNames = new Set(models.providers.map((provider) => provider.name));
  const limitNames = (dto.limits?.providers ?? []).map((limit) => limit.name);
  limitNames.forEach((name, index) => {
    if (!providerNames.has(name)) {
      problems.push({ field: `limits.providers.${index}.name`, message: 'is not a configured provider' });
    } else if (limitNames.indexOf(name) !== index) {
      problems.push({ field: `limits.providers.${index}.name`, message: 'names a provider twice' });
    }
  });

  const selection = dto.selection;
  const byIds = selection.conversationIds !== undefined;
  const byFilter = [selection.userId, selection.since, selection.until, selection.query].some((v) => v !== undefined);
  if (!byIds && !byFilter) {
    problems.push({
      field: 'selection',
      message: 'must name conversations (conversationIds) or filter them (userId, since, until, query)',
    });
  } else if (byIds && byFilter) {
    problems.push({ field: 'selection', message: 'conversationIds cannot be combined with filters' });
  }
  const since = selection.since !== undefined ? new Date(selection.since) : undefined;
  const until = selection.until !== undefined ? new Date(selection.until) : undefined;
  if (since && until && since.getTime() >= until.getTime()) {
    problems.push({ field: 'selection.until', message: 'must be after since' });
  }
  const booleanQuery = selection.query !== undefined ? toBooleanQuery(searchTerms(selection.query)) : undefined;
  if (booleanQuery === null) problems.push({ field: 'selection.query', message: 'has no word that can be searched' });
  if (problems.length > 0) throw new ValidationError(problems);

  const confirmed = dto.limits?.maxConversations ?? CONFIRM_CONVERSATIONS_ABOVE;
  let conversationIds: string[];
  if (byIds) {
    conversationIds = selection.conversationIds!.map((id) => id.toLowerCase());
    await requireReadable(db, principal, conversationIds);
  } else {
    const filter: ReadableConversationFilter = {
      readerId: principal.userId,
      ...(selection.userId ? { ownerId: selection.userId.toLowerCase() } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(booleanQuery ? { booleanQuery } : {}),
    };
    conversationIds = await db.replays.readableIds(filter);
    if (conversationIds.length === 0) throw noConversations();
  }
  const total = conversationIds.length;
  if (total > confirmed) throw tooMany(total, confirmed);

  const arms: ReplayArm[] = dto.arms.map((arm, index) => ({
    index,
    label: arm.label ?? arm.model,
    model: arm.model,
    provider: providerOf(models, arm.model),
    ...(arm.systemPrompt !== undefined ? { systemPrompt: arm.systemPrompt } : {}),
    retrieval: arm.retrieval ?? false,
    webSearch: arm.webSearch ?? false,
  }));
  const judge: ReplayJudge | null = dto.judge
    ? {
        model: dto.judge.model,
        provider: providerOf(models, dto.judge.model),
        against: dto.judge.against ?? 'original',
        rubric: dto.judge.rubric ?? DEFAULT_JUDGE_RUBRIC,
      }
    : null;
  const limits: ReplayLimits = {
    concurrency: dto.limits?.concurrency ?? DEFAULT_CONCURRENCY,
    conversationsPerRun: dto.limits?.conversationsPerRun ?? DEFAULT_CONVERSATIONS_PER_RUN,
    ...(dto.limits?.maxTurnsPerConversation !== undefined
      ? { maxTurnsPerConversation: dto.limits.maxTurnsPerConversation }
      : {}),
    providers: Object.fromEntries((dto.limits?.providers ?? []).map(({ name, ...limit }) => [name, limit] as const)),
  };
  const stored: ReplaySelection = byIds
    ? { conversationIds: total }
    : {
        ...(selection.userId ? { userId: selection.userId.toLowerCase() } : {}),
        ...(selection.since ? { since: since!.toISOString() } : {}),
        ...(selection.until ? { until: until!.toISOString() } : {}),
        ...(selection.query ? { query: selection.query } : {}),
      };
  return {
    arms,
    judge,
    seed: dto.judge?.seed ?? randomInt(0, 2 ** 31 - 1),
    limits,
    selection: stored,
    conversationIds,
    total,
  };
}

/** 404 naming the conversations that do not exist or that the caller may not read (the same to them). */
async function requireReadable(db: Database, principal: Principal, conversationIds: readonly string[]): Promise<void> {
  const readable = new Set<string>();
  for (let i = 0; i < conversationIds.length; i += ACCESS_CHECK_BATCH) {
    const batch = conversationIds.slice(i, i + ACCESS_CHECK_BATCH);
    for (const id of await db.replays.readableAmong(principal.userId, batch)) readable.add(id.toLowerCase());
  }
  const missing = conversationIds.filter((id) => !readable.has(id));
  if (missing.length === 0) return;
  const named = missing.slice(0, NAMED_IN_DETAIL).join(', ');
  const more = missing.length > NAMED_IN_DETAIL ? ` and ${missing.length - NAMED_IN_DETAIL} more` : '';
  throw new CommonError(
    'not_found',
    `${missing.length === 1 ? 'This conversation was' : `${missing.length} conversations were`} not found: ${named}${more}`,
    { conversationIds: missing.slice(0, 100) },
  );
}

/** The provider tried first for a served model (limits are per provider). */
function providerOf(models: ModelCatalog, model: string): string {
  return models.candidatesFor(model)[0]?.provider.name ?? OFFLINE_MODEL;
}

function noConversations(): ValidationError {
  return new ValidationError(
    [{ field: 'selection', message: 'matches no conversation you can read' }],
    'The selection is empty',
  );
}

function tooMany(total: number, confirmed: number): ValidationError {
  const message =
    confirmed === CONFIRM_CONVERSATIONS_ABOVE
      ? `the selection has ${total} conversations; confirm a batch over ${CONFIRM_CONVERSATIONS_ABOVE} with maxConversations >= ${total}`
      : `the selection has ${total} conversations, more than maxConversations (${confirmed})`;
  return new ValidationError([{ field: 'limits.maxConversations', message }], 'The selection is larger than confirmed');
}
