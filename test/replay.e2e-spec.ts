import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflows } from '../apps/worker/src/workflow-bundle';
import { signUp, startHarness } from './support/harness';
import { recordHistory } from './support/histories';
import { TEST_PAYLOAD_KEYS } from './support/test-env';
import { parsePayloadKeys } from '#libs/config/key-lists';
import { temporalDataConverter } from '#libs/temporal/data-converter';

/** Histories recorded since payloads are encrypted were sealed with the tests' fixed key; older ones are clear. */
const TEST_DATA_CONVERTER = temporalDataConverter({ payloadKeys: parsePayloadKeys(TEST_PAYLOAD_KEYS, []) });

/**
 * Recorded histories, oldest first. `chat-turn.completed.json` predates retrieval and web search (the workflow
 * replays it through the unpatched branch); `chat-turn.sources.completed.json` is a turn with both steps;
 * `chat-turn.encrypted.completed.json` is the same turn since payloads are encrypted (sealed with the tests' fixed key,
 * so the replayer needs the codec); `chat-turn.local-generation.completed.json` is a turn since the model call runs
 * as a local activity in the turn's workflow task; `chat-turn.v1.completed.json` is a turn started with a version
 * (`CHAT_TURN_VERSION` 1: the same steps, no patch markers); `chat-turn.v2.completed.json` one of version 2 (the steps
 * before the model call in one local activity, `prepareTurn`); `chat-turn.v3.completed.json` one of version 3 (a turn
 * without tools as one local activity, `answerTurn`).
 * `RECORD_HISTORIES=1` re-records only the newest.
 */
const FIXTURES = [
  'chat-turn.completed.json',
  'chat-turn.sources.completed.json',
  'chat-turn.encrypted.completed.json',
  'chat-turn.local-generation.completed.json',
  'chat-turn.v1.completed.json',
  'chat-turn.v2.completed.json',
  'chat-turn.v3.completed.json',
].map((name) => resolve(__dirname, 'fixtures/histories', name));
const FIXTURE = FIXTURES.at(-1)!;
/** An ingestFile run with embeddings, recorded by `RECORD_HISTORIES=1 npx jest test/files-to-answers.e2e-spec.ts`. */
const INGEST_FIXTURE = resolve(__dirname, 'fixtures/histories/ingest-file.ready.json');
/**
 * A completed replay of two conversations (two user turns each, one arm, judged): the parent `replayConversations` run
 * and the child `replayConversation` of its first conversation. `RECORD_HISTORIES=1 npx jest test/replay.e2e-spec.ts
 * -t replayConversations` re-records them.
 */
const REPLAY_FIXTURES = {
  parent: resolve(__dirname, 'fixtures/histories/replay-conversations.completed.json'),
  child: resolve(__dirname, 'fixtures/histories/replay-conversation.completed.json'),
};
/**
 * The operators' batch workflows, one finished run each, recorded by the CLI test
 * (`RECORD_HISTORIES=1 npx jest test/cli.e2e-spec.ts -t 'batch workflows'`); payloads sealed with the tests' key.
 */
const BATCH_FIXTURES = [
  'reembed-files.completed.json',
  'reencrypt-files.completed.json',
  'purge-data.older-than.completed.json',
].map((name) => resolve(__dirname, 'fixtures/histories', name));
/**
 * One history for each way a chat turn or an ingestion ends other than plainly, each written by the test that makes it
 * happen under `RECORD_HISTORIES=1`: a cancelled turn (`test/cancel.e2e-spec.ts`), a failed one (`test/chat-turn`), a
 * turn whose generation was retried after its worker was killed (`test/worker-crash`), a turn that called a tool after
 * its user approved it (`test/tools`: the tool loop, an update and a `runTool` activity), and an ingestion that failed
 * (`test/files-to-answers`). Payloads sealed with the tests' key. The `.local-generation` ones were recorded since the
 * model call runs inside the turn's workflow task (a cancel then arrives ahead through Redis); the others replay the
 * model call as a regular activity. The `.v1` ones are turns started with a version (no patch markers), the `.v2` ones
 * with version 2 (`prepareTurn`), the `.v3` ones with version 3 (`answerTurn`; a turn with tools runs version 2's
 * steps).
 */
const OUTCOME_FIXTURES = [
  'chat-turn.cancelled.json',
  'chat-turn.failed.json',
  'chat-turn.generation-retried.completed.json',
  'chat-turn.tools-approved.completed.json',
  'ingest-file.failed.json',
  'chat-turn.cancelled.local-generation.json',
  'chat-turn.failed.local-generation.json',
  'chat-turn.generation-retried.local-generation.completed.json',
  'chat-turn.tools-approved.local-generation.completed.json',
  'chat-turn.cancelled.v1.json',
  'chat-turn.tools-approved.v1.completed.json',
  'chat-turn.cancelled.v2.json',
  'chat-turn.tools-approved.v2.completed.json',
  'chat-turn.cancelled.v3.json',
  'chat-turn.failed.v3.json',
  'chat-turn.generation-retried.v3.completed.json',
  'chat-turn.tools-approved.v3.completed.json',
].map((name) => resolve(__dirname, 'fixtures/histories', name));
const REORDERED = resolve(__dirname, 'fixtures/workflows/chat-turn-reordered.workflow.ts');

/** The bundle test/support/global-setup.ts made from the current sources. */
function currentWorkflows() {
  const codePath = process.env.WORKER_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('WORKER_WORKFLOW_BUNDLE is not set: run the tests through Jest');
  return { workflowBundle: { codePath }, dataConverter: TEST_DATA_CONVERTER };
}

async function* histories(fixtures: string[]) {
  for (const [index, fixture] of fixtures.entries()) {
    yield { workflowId: `turn:recorded-${index}`, history: historyFromJSON(JSON.parse(readFileSync(fixture, 'utf8'))) };
  }
}

describe('chatTurn replay (determinism)', () => {
  if (process.env.RECORD_HISTORIES === '1') {
    // `RECORD_HISTORIES=1 npx jest test/replay.e2e-spec.ts` re-records the fixture after an intended change.
    it('records a completed chatTurn history', async () => {
      const h = await startHarness('record');
      try {
        const { auth } = await signUp(h, 'recorder');
        const conversation = await h.http
          .post('/api/v1/conversations')
          .set('Authorization', auth)
          .send({ systemPrompt: 'Be brief.' });
        const sent = await h.http
          .post(`/api/v1/conversations/${conversation.body.id}/messages`)
          .set('Authorization', auth)
          .send({ content: 'Record me', webSearch: true });
        expect(sent.status).toBe(200);
        const handle = h.temporal.workflow.getHandle(`turn:${sent.body.turnId}`);
        await handle.result();
        recordHistory(handle.workflowId, h.config.temporal.address, FIXTURE);
      } finally {
        await h.close();
      }
    });

    it('records a completed replayConversations history and one of its replayConversation children', async () => {
      const h = await startHarness('recordreplay');
      try {
        const { auth } = await signUp(h, 'recorder');
        const conversations: string[] = [];
        for (const name of ['first', 'second']) {
          const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
          conversations.push(conversation.body.id as string);
          for (const turn of [1, 2]) {
            const sent = await h.http
              .post(`/api/v1/conversations/${conversation.body.id}/messages`)
              .set('Authorization', auth)
              .send({ content: `${name} conversation, turn ${turn}` });
            expect(sent.status).toBe(200);
          }
        }
        const created = await h.http
          .post('/api/v1/replays')
          .set('Authorization', auth)
          .send({
            selection: { conversationIds: conversations },
            arms: [{ model: 'fake-model', label: 'same model' }],
            mode: 'pinned',
            judge: { model: 'fake-model', seed: 1 },
          });
        expect(created.status).toBe(202);
        const handle = h.temporal.workflow.getHandle(`replay:${created.body.id}`);
        await handle.result();
        recordHistory(handle.workflowId, h.config.temporal.address, REPLAY_FIXTURES.parent);
        recordHistory(
          `replay:${created.body.id}:${conversations[0]}`,
          h.config.temporal.address,
          REPLAY_FIXTURES.child,
        );
      } finally {
        await h.close();
      }
    });
    return;
  }

  it('replays every recorded history, old and new, with the current workflow code', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories(currentWorkflows(), histories(FIXTURES))) results.push(result);
    expect(results).toHaveLength(FIXTURES.length);
    expect(results.map((result) => result.error)).toEqual(FIXTURES.map(() => undefined));
  });

  it('records no patch marker and no search-attribute upsert for a turn started with a version', async () => {
    const eventsOf = (name: string) =>
      historyFromJSON(JSON.parse(readFileSync(resolve(__dirname, 'fixtures/histories', name), 'utf8'))).events ?? [];
    const versioned = eventsOf('chat-turn.v1.completed.json');
    const patchedTurn = eventsOf('chat-turn.local-generation.completed.json');
    const markers = (events: typeof versioned, name: string) =>
      events.filter((e) => e.markerRecordedEventAttributes?.markerName === name);
    const upserts = (events: typeof versioned) => events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    // The same steps as the same turn recorded with patches (history ∥ retrieval ∥ web search, model, persist)…
    expect(markers(versioned, 'core_local_activity')).toHaveLength(5);
    expect(markers(patchedTurn, 'core_local_activity')).toHaveLength(5);
    // …without the two patches' markers and search-attribute upserts.
    expect(markers(patchedTurn, 'core_patch')).toHaveLength(2);
    expect(upserts(patchedTurn)).toHaveLength(2);
    expect(markers(versioned, 'core_patch')).toHaveLength(0);
    expect(upserts(versioned)).toHaveLength(0);
    // Version 2: history ∥ retrieval ∥ web search as one step (prepareTurn), then the model and persist.
    const v2 = eventsOf('chat-turn.v2.completed.json');
    expect(markers(v2, 'core_local_activity')).toHaveLength(3);
    expect([markers(v2, 'core_patch'), upserts(v2)]).toEqual([[], []]);
    // Version 3: the whole turn as one step (answerTurn), in one workflow task.
    const v3 = eventsOf('chat-turn.v3.completed.json');
    expect(markers(v3, 'core_local_activity')).toHaveLength(1);
    expect(v3.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
    expect([markers(v3, 'core_patch'), upserts(v3)]).toEqual([[], []]);
  });

  it('replays a recorded ingestFile history with the current workflow code', async () => {
    const results = [];
    const history = historyFromJSON(JSON.parse(readFileSync(INGEST_FIXTURE, 'utf8')));
    for await (const result of Worker.runReplayHistories(currentWorkflows(), [
      { workflowId: 'ingest:recorded', history },
    ])) {
      results.push(result);
    }
    expect(results.map((result) => result.error)).toEqual([undefined]);
  });

  it('replays recorded replayConversations and replayConversation histories with the current workflow code', async () => {
    const results = [];
    const recorded = Object.entries(REPLAY_FIXTURES).map(([kind, file]) => ({
      workflowId: `replay:recorded-${kind}`,
      history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))),
    }));
    for await (const result of Worker.runReplayHistories(currentWorkflows(), recorded)) results.push(result);
    expect(results.map((result) => result.error)).toEqual([undefined, undefined]);
  });

  it('replays recorded reembedFiles, reencryptFiles and purgeData histories with the current workflow code', async () => {
    const results = [];
    const recorded = BATCH_FIXTURES.map((file, i) => ({
      workflowId: `batch:recorded-${i}`,
      history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))),
    }));
    for await (const result of Worker.runReplayHistories(currentWorkflows(), recorded)) results.push(result);
    expect(results).toHaveLength(BATCH_FIXTURES.length);
    expect(results.map((result) => result.error)).toEqual(BATCH_FIXTURES.map(() => undefined));
  });

  it('replays recorded cancelled, failed, retried and tool-calling turns (before and since the model call moved into the workflow task) and a failed ingestion with the current workflow code', async () => {
    const results = [];
    const recorded = OUTCOME_FIXTURES.map((file, i) => ({
      workflowId: `outcome:recorded-${i}`,
      history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))),
    }));
    // Each is the outcome it is named after: how the run closed, the generation's second attempt, embedding refused.
    const closes = recorded.map(({ history }) => {
      const last = history.events?.at(-1);
      return last?.workflowExecutionCanceledEventAttributes
        ? 'cancelled'
        : last?.workflowExecutionFailedEventAttributes
          ? 'failed'
          : last?.workflowExecutionCompletedEventAttributes
            ? 'completed'
            : 'open';
    });
    expect(closes).toEqual([
      ...['cancelled', 'failed', 'completed', 'completed', 'completed'],
      ...['cancelled', 'failed', 'completed', 'completed'],
      ...['cancelled', 'completed'],
      ...['cancelled', 'completed'],
      ...['cancelled', 'failed', 'completed', 'completed'],
    ]);
    const [
      ,
      ,
      retried,
      withTools,
      ingestFailed,
      cancelledLocal,
      ,
      retriedLocal,
      withToolsLocal,
      cancelledV1,
      withToolsV1,
      cancelledV2,
      withToolsV2,
      cancelledV3,
      failedV3,
      retriedV3,
      withToolsV3,
    ] = recorded.map(({ history }) => history.events ?? []);
    // Since the model call runs in the workflow task: no `generate` activity task; a worker killed mid-call shows as
    // its workflow task timing out; a cancel heard ahead through Redis arrives once the task has recorded its steps.
    const activityTypes = (events: typeof retried) =>
      events!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    const cancelledInTask = [cancelledLocal, cancelledV1, cancelledV2, cancelledV3];
    const withToolsInTask = [withToolsLocal, withToolsV1, withToolsV2, withToolsV3];
    for (const events of [...cancelledInTask, retriedLocal, retriedV3, failedV3, ...withToolsInTask]) {
      expect(activityTypes(events)).not.toContain('generate');
    }
    for (const events of [retriedLocal, retriedV3]) {
      expect(events!.some((e) => e.workflowTaskTimedOutEventAttributes)).toBe(true);
    }
    for (const cancelled of cancelledInTask) {
      const cancelAt = cancelled!.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
      expect(cancelAt).toBeGreaterThan(cancelled!.findLastIndex((e) => e.markerRecordedEventAttributes));
    }
    for (const events of withToolsInTask) {
      expect(events!.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(true);
    }
    // Started with a version (the last eight fixtures: versions 1, 2 and 3): the tool loop's and the turn's changes
    // apply without a patch marker.
    for (const { history } of recorded.slice(-8)) {
      const events = history.events;
      expect(events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toEqual([]);
    }
    // The tool turn: the owner's decision arrived as an update, then the call ran as an activity of its own.
    expect(withTools!.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(true);
    expect(
      withTools!.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []).includes('runTool'),
    ).toBe(true);
    expect(
      retried!
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt),
    ).toEqual([2]);
    expect(ingestFailed!.some((e) => e.activityTaskFailedEventAttributes)).toBe(true);
    for await (const result of Worker.runReplayHistories(currentWorkflows(), recorded)) results.push(result);
    expect(results).toHaveLength(OUTCOME_FIXTURES.length);
    expect(results.map((result) => result.error)).toEqual(OUTCOME_FIXTURES.map(() => undefined));
  });

  it('cannot replay an encrypted history without the payload codec (the replayer needs the keys)', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: currentWorkflows().workflowBundle },
      histories(FIXTURES.slice(-1)),
    )) {
      results.push(result);
    }
    expect(results).toHaveLength(1);
    expect(String(results[0]!.error)).toMatch(/encoding|binary\/encrypted|payload/i);
  });

  it('fails with a determinism violation when the workflow changes incompatibly', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { code: await bundleWorkflows(REORDERED) }, dataConverter: TEST_DATA_CONVERTER },
      histories(FIXTURES.slice(0, 1)),
    )) {
      results.push(result);
    }
    expect(results).toHaveLength(1);
    expect(results[0]!.error).toBeInstanceOf(DeterminismViolationError);
  });
});
