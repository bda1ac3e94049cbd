import { AuditWriter } from '#libs/audit/audit-writer';
import type { ReplayBatchInput } from '#libs/contracts/replay.contract';
import type { Database, Repositories } from '#libs/db/database';
import { InMemoryAuditLogRepository } from '#libs/db/testing/in-memory-audit-log.repository';
import { InMemoryReplayRepository } from '#libs/db/testing/in-memory-replay.repository';
import { ModelCatalog } from '#libs/llm/provider-registry';
import type { Principal } from '../auth/principal';
import type { CreateReplayDto } from './dto/create-replay.dto';
import type { ReplayRunner } from './replay-runner';
import { ReplaysService } from './replays.service';

const ADMIN: Principal = { userId: 'u-admin', sessionId: 's', role: 'admin', scopes: ['admin'], kind: 'session' };
const CLIENT = { ip: '127.0.0.1', userAgent: 'spec', requestId: 'req-1' };
const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
const STRANGER = '33333333-3333-4333-8333-333333333333';

function setup(conversations = 2) {
  const replays = new InMemoryReplayRepository();
  const audit = new InMemoryAuditLogRepository();
  for (let i = 0; i < conversations; i++) {
    replays.readable.push({
      id: i === 0 ? C1 : i === 1 ? C2 : `c-${i}`,
      ownerId: 'u-admin',
      readers: ['u-admin'],
      createdAt: new Date(2026, 0, 1, 0, 0, i),
    });
  }
  replays.readable.push({ id: STRANGER, ownerId: 'u-other', readers: ['u-other'], createdAt: new Date(2026, 0, 2) });
  const repos = { replays, audit } as unknown as Repositories;
  const db = { ...repos, transaction: (work) => work(repos), ping: async () => undefined } as Database;
  const runner = {
    start: jest.fn(async (_input: ReplayBatchInput) => undefined),
    progress: jest.fn(async () => undefined),
    control: jest.fn(),
  };
  const catalog = new ModelCatalog(
    [
      { name: 'local', baseUrl: 'http://llm.local/v1', models: ['m-small', 'm-large'], priority: 0 },
      { name: 'judges', baseUrl: 'http://judge.local/v1', models: ['m-judge'], priority: 1 },
    ],
    'm-small',
  );
  const service = new ReplaysService(db, new AuditWriter(db), runner as unknown as ReplayRunner, catalog);
  return { service, replays, audit, runner };
}

const request = (over: Partial<CreateReplayDto> = {}): CreateReplayDto => ({
  selection: { conversationIds: [C1, C2] },
  arms: [
    { model: 'm-large', label: 'large' },
    { model: 'm-small', retrieval: true },
  ],
  mode: 'pinned',
  ...over,
});

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('ReplaysService.create', () => {
  it('writes the replay, its conversations in order and an audit row, then starts its workflow', async () => {
    const { service, replays, audit, runner } = setup();
    const { view, isNew } = await service.create(
      ADMIN,
      request({
        judge: { model: 'm-judge', seed: 9 },
        limits: { concurrency: 3, providers: [{ name: 'local', requestsPerSecond: 2 }] },
      }),
      { client: CLIENT },
    );
    expect(isNew).toBe(true);
    expect(view).toMatchObject({
      status: 'queued',
      mode: 'pinned',
      selection: { conversationIds: 2 },
      arms: [
        { index: 0, label: 'large', model: 'm-large', provider: 'local', retrieval: false, webSearch: false },
        { index: 1, label: 'm-small', model: 'm-small', provider: 'local', retrieval: true, webSearch: false },
      ],
      judge: { model: 'm-judge', provider: 'judges', against: 'original', rubric: expect.any(String) },
      limits: { concurrency: 3, conversationsPerRun: 500, providers: { local: { requestsPerSecond: 2 } } },
      seed: 9,
      progress: { conversations: { total: 2, pending: 2 } },
      workflowId: `replay:${view.id}`,
    });
    expect(replays.conversations.map((c) => [c.seq, c.conversationId])).toEqual([
      [1, C1],
      [2, C2],
    ]);
    expect(audit.rows).toEqual([
      expect.objectContaining({
        actorId: 'u-admin',
        action: 'replay.created',
        targetId: view.id,
        requestId: 'req-1',
        ip: '127.0.0.1',
        metadata: { conversations: 2, mode: 'pinned', models: ['m-large', 'm-small'], judge: 'm-judge' },
      }),
    ]);
    expect(runner.start).toHaveBeenCalledWith(
      expect.objectContaining({ replayId: view.id, createdBy: 'u-admin', totalConversations: 2, seed: 9 }),
      { conversationIds: 2 },
    );
  });

  it('refuses unknown conversations and ones the caller cannot read alike: 404 naming them, nothing written', async () => {
    const { service, replays, runner } = setup();
    const missing = '44444444-4444-4444-8444-444444444444';
    const error = await refusal(
      service.create(ADMIN, request({ selection: { conversationIds: [C1, STRANGER, missing] } }), { client: CLIENT }),
    );
    expect(error).toMatchObject({
      code: 'not_found',
      status: 404,
      detail: `2 conversations were not found: ${STRANGER}, ${missing}`,
      extra: { conversationIds: [STRANGER, missing] },
    });
    expect(replays.replays.size).toBe(0);
    expect(runner.start).not.toHaveBeenCalled();
  });

  it('names every field at fault at once: unserved models, a judge comparing arms with one arm, unknown providers', async () => {
    const { service, replays } = setup();
    const error = await refusal(
      service.create(
        ADMIN,
        request({
          arms: [{ model: 'm-large' }, { model: 'gpt-9' }],
          judge: { model: 'm-nope', against: 'first-arm' },
          limits: { providers: [{ name: 'local' }, { name: 'elsewhere' }, { name: 'local' }] },
        }),
        { client: CLIENT },
      ),
    );
    expect(error).toMatchObject({ code: 'validation_failed', status: 400 });
    expect((error as { extra: { errors: { field: string }[] } }).extra.errors.map((e) => e.field)).toEqual([
      'arms.1.model',
      'judge.model',
      'limits.providers.1.name',
      'limits.providers.2.name',
    ]);
    const oneArm = await refusal(
      service.create(
        ADMIN,
        request({ arms: [{ model: 'm-large' }], judge: { model: 'm-judge', against: 'first-arm' } }),
        {
          client: CLIENT,
        },
      ),
    );
    expect(oneArm).toMatchObject({ extra: { errors: [{ field: 'judge.against' }] } });
    expect(replays.replays.size).toBe(0);
  });

  it('refuses selections that are empty, contradictory or name nothing it can search', async () => {
    const { service } = setup();
    const fields = async (selection: CreateReplayDto['selection']) =>
      (
        (await refusal(service.create(ADMIN, request({ selection }), { client: CLIENT }))) as {
          extra: { errors: { field: string; message: string }[] };
        }
      ).extra.errors;
    expect(await fields({})).toEqual([
      { field: 'selection', message: expect.stringContaining('must name conversations') },
    ]);
    expect(await fields({ conversationIds: [C1], userId: 'u-admin' })).toEqual([
      { field: 'selection', message: 'conversationIds cannot be combined with filters' },
    ]);
    expect(await fields({ since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' })).toEqual([
      { field: 'selection.until', message: 'must be after since' },
    ]);
    expect(await fields({ query: '?!' })).toEqual([
      { field: 'selection.query', message: 'has no word that can be searched' },
    ]);
    expect(await fields({ userId: 'u-nobody' })).toEqual([
      { field: 'selection', message: 'matches no conversation you can read' },
    ]);
  });

  it('replays a selection by filter, counting only conversations the caller may read', async () => {
    const { service, replays } = setup(3);
    const { view } = await service.create(ADMIN, request({ selection: { userId: 'U-ADMIN'.toLowerCase() } }), {
      client: CLIENT,
    });
    expect(view.selection).toEqual({ userId: 'u-admin' });
    expect(replays.conversations.map((c) => c.conversationId)).toEqual([C1, C2, 'c-2']);
  });

  it('refuses a batch over 10 000 conversations unless maxConversations confirms it, and one over the confirmed size', async () => {
    const { service, replays, runner } = setup(0);
    replays.readable.push(
      ...Array.from({ length: 100_000 }, (_, i) => ({
        id: `c-${i}`,
        ownerId: 'u-admin',
        readers: ['u-admin'],
        createdAt: new Date(2026, 0, 1),
      })),
    );
    const big = request({ selection: { userId: 'u-admin' } });
    expect(await refusal(service.create(ADMIN, big, { client: CLIENT }))).toMatchObject({
      code: 'validation_failed',
      extra: {
        errors: [
          {
            field: 'limits.maxConversations',
            message:
              'the selection has 100000 conversations; confirm a batch over 10000 with maxConversations >= 100000',
          },
        ],
      },
    });
    expect(
      await refusal(service.create(ADMIN, { ...big, limits: { maxConversations: 50_000 } }, { client: CLIENT })),
    ).toMatchObject({
      extra: {
        errors: [
          {
            field: 'limits.maxConversations',
            message: 'the selection has 100000 conversations, more than maxConversations (50000)',
          },
        ],
      },
    });
    expect(replays.replays.size).toBe(0);
    const { view } = await service.create(ADMIN, { ...big, limits: { maxConversations: 100_000 } }, { client: CLIENT });
    expect(view.progress.conversations.total).toBe(100_000);
    expect(replays.conversations).toHaveLength(100_000);
    expect(runner.start).toHaveBeenCalledTimes(1);
  });

  it('maps a retried request with the same Idempotency-Key to its replay, and refuses the key for another request', async () => {
    const { service, replays, runner } = setup();
    const first = await service.create(ADMIN, request(), { idempotencyKey: 'k-1', client: CLIENT });
    const again = await service.create(ADMIN, request(), { idempotencyKey: 'k-1', client: CLIENT });
    expect(again).toMatchObject({ isNew: false, view: { id: first.view.id } });
    expect(replays.replays.size).toBe(1);
    // Still queued (the first start may have failed): started again, which Temporal makes harmless.
    expect(runner.start).toHaveBeenCalledTimes(2);
    expect(
      await refusal(service.create(ADMIN, request({ mode: 'trajectory' }), { idempotencyKey: 'k-1', client: CLIENT })),
    ).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
  });
});

describe('ReplaysService reads and control', () => {
  it('shows a replay to its creator only, and answers 409 to controlling one that ended', async () => {
    const { service, replays } = setup();
    const { view } = await service.create(ADMIN, request(), { client: CLIENT });
    const other: Principal = { ...ADMIN, userId: 'u-other-admin' };
    expect(await refusal(service.get(other, view.id))).toMatchObject({ code: 'not_found' });
    expect(await refusal(service.results(other, view.id, {}))).toMatchObject({ code: 'not_found' });
    replays.replays.get(view.id)!.status = 'completed';
    expect(await refusal(service.control(ADMIN, view.id, 'pause', CLIENT))).toMatchObject({
      code: 'conflict',
      status: 409,
    });
    expect(await refusal(service.results(ADMIN, view.id, { arm: 2 }))).toMatchObject({
      extra: { errors: [{ field: 'arm', message: 'must be an arm of this replay (0-1)' }] },
    });
  });

  it('reports a running replay from its results so far', async () => {
    const { service } = setup();
    const { view } = await service.create(ADMIN, request(), { client: CLIENT });
    const report = await service.report(ADMIN, view.id, 'csv');
    expect(report).toMatchObject({ contentType: 'text/csv; charset=utf-8', filename: `replay-${view.id}.csv` });
    expect(report.body.split('\r\n')[1]).toMatch(/^0,large,m-large,0,0,0,/);
  });
});
