import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from '../fakes/fake-llm.server';
import { type Harness, type HarnessOptions, startHarness, waitFor } from './harness';

/** The models the replay tests' provider serves (test/fakes/fake-llm.server.ts: each answers in its own way). */
export const REPLAY_MODELS = ['fake-model', 'fake-verbose', 'fake-terse', 'fake-recall', 'fake-refuser'];
/** The judge is served by a provider of its own (the same fake), so its limits are separate. */
export const JUDGE_MODEL = 'fake-judge';

export interface ReplayStack {
  h: Harness;
  llm: FakeLlm;
  close(): Promise<void>;
}

/**
 * The real stack with one fake LLM behind two providers: `fake` (every model of REPLAY_MODELS, `fake-model` the
 * default) and `judge` (`fake-judge`).
 */
export async function startReplayStack(
  name: string,
  options: { llm?: FakeLlmOptions; harness?: HarnessOptions } = {},
): Promise<ReplayStack> {
  const llm = await startFakeLlm(options.llm ?? {});
  const h = await startHarness(name, {
    ...options.harness,
    fakeLlm: false,
    env: {
      LLM_PROVIDERS: JSON.stringify([
        { name: 'fake', baseUrl: llm.url, models: REPLAY_MODELS },
        { name: 'judge', baseUrl: llm.url, models: [JUDGE_MODEL] },
      ]),
      LLM_MODEL: 'fake-model',
      RATE_LIMIT_CHAT_MAX: '100000',
      ...options.harness?.env,
    },
  });
  return {
    h,
    llm,
    async close() {
      await h.close();
      await llm.close();
    },
  };
}

/** The question of turn `turn` of conversation `n`: distinct, so every answer can be told apart. */
export function question(n: number, turn: number): string {
  return `question ${turn} of conversation ${n}`;
}

/**
 * `count` conversations of `turns` user turns each, answered by real chat turns (fake-model echoes), a few at a time.
 * Returns their ids in creation order.
 */
export async function seedConversations(h: Harness, auth: string, count: number, turns: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const res = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    if (res.status !== 201) throw new Error(`conversation: ${res.status} ${res.text}`);
    ids.push(res.body.id as string);
  }
  const lanes = 4;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let n = lane; n < count; n += lanes) {
        for (let turn = 0; turn < turns; turn++) {
          const sent = await h.http
            .post(`/api/v1/conversations/${ids[n]}/messages`)
            .set('Authorization', auth)
            .send({ content: question(n, turn) });
          if (sent.status !== 200) throw new Error(`message: ${sent.status} ${sent.text}`);
        }
      }
    }),
  );
  return ids;
}

export interface ReplayBody {
  id: string;
  status: string;
  progress: {
    status: string;
    conversations: { total: number; done: number; failed: number; cancelled: number; running: number; pending: number };
    turns: { done: number; failed: number };
    tokens: { prompt: number; completion: number };
    etaSeconds: number | null;
    runs: number;
  };
  [key: string]: unknown;
}

export async function getReplay(h: Harness, auth: string, id: string): Promise<ReplayBody> {
  const res = await h.http.get(`/api/v1/replays/${id}`).set('Authorization', auth);
  if (res.status !== 200) throw new Error(`GET replay: ${res.status} ${res.text}`);
  return res.body as ReplayBody;
}

/** Waits until the replay's status is one of `statuses`. */
export async function waitForReplay(
  h: Harness,
  auth: string,
  id: string,
  statuses: string[] = ['completed', 'failed', 'cancelled'],
  timeoutMs = 120_000,
): Promise<ReplayBody> {
  return waitFor(
    async () => {
      const replay = await getReplay(h, auth, id);
      return statuses.includes(replay.status) ? replay : undefined;
    },
    timeoutMs,
    250,
  );
}

export interface ResultBody {
  id: string;
  conversationId: string;
  turnIndex: number;
  userMessage: { id: string; content: string | null };
  original: { id: string; content: string; metrics: Record<string, unknown> | null } | null;
  arm: {
    index: number;
    status: string;
    content: string;
    model: string | null;
    metrics: Record<string, unknown>;
    error: { code: string; detail: string } | null;
  };
  verdict: { outcome: string; order: string; reason: string; judgeModel: string; against: string } | null;
  bucket: string;
}

/** Every result of the replay, following the cursor. */
export async function allResults(h: Harness, auth: string, id: string, query = ''): Promise<ResultBody[]> {
  const items: ResultBody[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.http
      .get(`/api/v1/replays/${id}/results?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`)
      .set('Authorization', auth);
    if (res.status !== 200) throw new Error(`results: ${res.status} ${res.text}`);
    items.push(...(res.body.items as ResultBody[]));
    cursor = res.body.nextCursor as string | null;
  } while (cursor);
  return items;
}

/** A checksum of the tables a replay must never write to (the originals). */
export async function originalsChecksum(h: Harness): Promise<Record<string, string>> {
  const rows: { Table: string; Checksum: string | number | null }[] = await h.db.query(
    'CHECKSUM TABLE conversations, messages, turns, message_feedback',
  );
  return Object.fromEntries(rows.map((row) => [row.Table.split('.').pop()!, String(row.Checksum)]));
}
