import { AuditWriter } from '#libs/audit/audit-writer';
import type { ReplayArm, ReplayStepRef, ReplayTurnRef } from '#libs/contracts/replay.contract';
import type { TurnEntity } from '#libs/db/entities/turn.entity';
import { InMemoryChatStore } from '#libs/db/testing/in-memory-chat-store';
import type { GenerateRequest, GenerateResult, LlmProvider } from '#libs/llm/llm-provider';
import { silentLogger } from '../../chat/testing/chat-activity-kit';

export { inActivity, silentLogger } from '../../chat/testing/chat-activity-kit';

/** A turn row as the chat path writes one. */
function turnRow(fields: Partial<TurnEntity> & { id: string; userMessageId: string; assistantMessageId: string }) {
  const created = new Date('2026-01-01T00:00:00.000Z');
  return {
    conversationId: 'c-1',
    userId: 'u-sender',
    status: 'completed',
    workflowId: `turn:${fields.id}`,
    idempotencyKey: null,
    requestHash: 'h',
    requestId: 'req',
    model: 'fake-model',
    steps: null,
    options: null,
    errorCode: null,
    errorDetail: null,
    createdAt: created,
    updatedAt: created,
    completedAt: new Date(created.getTime() + 850),
    ...fields,
  } satisfies TurnEntity;
}

/**
 * For the replay activities' unit specs: conversation c-1 (owner u-owner, shared with the sender u-sender) whose current
 * branch is two answered user turns, the second restricted to file f-1; and replay r-1 covering it.
 */
export function replayFixture() {
  const store = new InMemoryChatStore();
  store.addConversation({ id: 'c-1', ownerId: 'u-owner', systemPrompt: 'Be brief.', currentMessageId: 'a-2' });
  store.addMessage({ id: 'q-1', conversationId: 'c-1', content: 'What is a workflow?', turnId: 't-1' });
  store.addMessage({
    id: 'a-1',
    conversationId: 'c-1',
    parentId: 'q-1',
    role: 'assistant',
    content: 'A durable function [1].',
    turnId: 't-1',
    citations: [{ kind: 'file', title: 'Guide', fileId: 'f-1', chunkId: 'k-1', snippet: '…' }],
    usage: { promptTokens: 30, completionTokens: 6 },
  });
  store.addMessage({ id: 'q-2', conversationId: 'c-1', parentId: 'a-1', content: 'And an activity?', turnId: 't-2' });
  store.addMessage({
    id: 'a-2',
    conversationId: 'c-1',
    parentId: 'q-2',
    role: 'assistant',
    content: 'A step.',
    turnId: 't-2',
  });
  store.turns.set('t-1', turnRow({ id: 't-1', userMessageId: 'q-1', assistantMessageId: 'a-1' }));
  store.turns.set(
    't-2',
    turnRow({ id: 't-2', userMessageId: 'q-2', assistantMessageId: 'a-2', options: { fileIds: ['f-1'] } }),
  );
  void store.replays.enqueueConversations('r-1', ['c-1']);
  const db = store.database();
  return { store, db, audit: new AuditWriter(db), logger: silentLogger };
}

export const ARMS: ReplayArm[] = [
  { index: 0, label: 'new', model: 'm-new', provider: 'p', retrieval: false, webSearch: false },
  { index: 1, label: 'other', model: 'm-other', provider: 'p', retrieval: false, webSearch: false },
];

export const ref = (turnIndex: number, armIndex = 0): ReplayStepRef => ({
  replayId: 'r-1',
  conversationId: 'c-1',
  turnIndex,
  armIndex,
});

export const TURNS: ReplayTurnRef[] = [
  { index: 0, userMessageId: 'q-1', originalMessageId: 'a-1', senderId: 'u-sender' },
  { index: 1, userMessageId: 'q-2', originalMessageId: 'a-2', senderId: 'u-sender', fileIds: ['f-1'] },
];

/** A model that answers with `reply(request)` and remembers what it was asked. */
export function scriptedLlm(reply: (req: GenerateRequest) => string): LlmProvider & { calls: GenerateRequest[] } {
  const calls: GenerateRequest[] = [];
  return {
    name: 'scripted',
    defaultModel: 'm-default',
    calls,
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      calls.push(req);
      return { content: reply(req), model: req.model ?? 'm-default', provider: 'scripted', finishReason: 'stop' };
    },
  };
}
