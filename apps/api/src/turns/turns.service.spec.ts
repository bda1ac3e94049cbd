import { builtinOfferedTools } from '../tools/testing/builtin-offered-tools';
import type { AppConfig } from '#libs/config/app-config';
import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import { toMessageView } from '#libs/contracts/message-view';
import { InMemoryChatStore } from '#libs/db/testing/in-memory-chat-store';
import { AppError, ForbiddenError, NotFoundError } from '#libs/errors/app-error';
import type { TurnEventHub } from '#libs/events/turn-event-hub';
import type { TurnEventLog } from '#libs/events/turn-event-log';
import { ModelCatalog } from '#libs/llm/provider-registry';
import type { Logger } from '#libs/logging/logger';
import type { ConversationAccess } from '../access/conversation-access';
import type { Principal } from '../auth/principal';
import { messageRequest } from './turn-request';
import { TurnAlreadyClosedError, TurnFailedError, type TurnRunner } from './turn-runner';
import { TurnsService } from './turns.service';

const ada: Principal = { userId: 'u-ada' } as Principal;
const eve: Principal = { userId: 'u-eve' } as Principal;

/** The access policy reduced to ownership: Ada owns every conversation, nobody else may see one. */
function ownerOnlyAccess(store: InMemoryChatStore): ConversationAccess {
  const find = async (principal: Principal, conversationId: string) => {
    const conversation = store.conversations.get(conversationId);
    return conversation && conversation.ownerId === principal.userId
      ? { conversation: { ...conversation }, permission: 'owner' as const }
      : undefined;
  };
  return {
    find,
    require: async (principal: Principal, conversationId: string) => {
      const grant = await find(principal, conversationId);
      if (!grant) throw new NotFoundError('The conversation');
      return grant;
    },
    requireItem: async (principal: Principal, item: { conversationId: string } | null, _need: string, what: string) => {
      const grant = item ? await find(principal, item.conversationId) : undefined;
      if (!item || !grant) throw new NotFoundError(what);
      return { ...grant, item };
    },
  } as unknown as ConversationAccess;
}

/** A Temporal port that answers like a worker would: it writes the reply and returns it. */
function fakeRunner(store: InMemoryChatStore) {
  const started: ChatTurnInput[] = [];
  const runner = {
    started,
    start: async (input: ChatTurnInput) => {
      started.push(input);
    },
    runAndWait: jest.fn(async (input: ChatTurnInput) => {
      started.push(input);
      const answer = store.addMessage({
        id: input.assistantMessageId,
        conversationId: input.conversationId,
        parentId: input.userMessageId,
        role: 'assistant',
        content: `answer to ${input.userMessageId}`,
        turnId: input.turnId,
        model: 'fake-model',
      });
      store.turns.get(input.turnId)!.status = 'completed';
      return toMessageView(answer);
    }),
    progress: async () => undefined,
    cancel: async () => true,
  };
  return runner;
}

function setup() {
  const store = new InMemoryChatStore();
  store.addConversation({ id: 'c-1', ownerId: 'u-ada', model: null });
  store.ownedFiles.set('u-ada', ['f-1']);
  const runner = fakeRunner(store);
  const service = new TurnsService(
    store.database(),
    { api: { syncTurnTimeoutMs: 200 } } as AppConfig,
    runner as unknown as TurnRunner,
    ownerOnlyAccess(store),
    { steps: async () => undefined } as unknown as TurnEventLog,
    {} as TurnEventHub,
    { warn() {} } as unknown as Logger,
    new ModelCatalog([{ name: 'p', baseUrl: 'http://x', models: ['fake-model'], priority: 0 }], 'fake-model'),
    builtinOfferedTools(store.database()),
  );
  return { store, runner, service };
}

const send = (content: string, extra: Partial<Parameters<typeof messageRequest>[1]> = {}) =>
  messageRequest('c-1', { content, ...extra });

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AppError ? `${error.status} ${error.code}` : String(error)),
  );
}

describe('TurnsService', () => {
  it('saves the user message and a queued turn, moves the branch to it and titles a new conversation', async () => {
    const { service, store } = setup();
    const created = await service.create(ada, send('  What is   a durable workflow? '), { requestId: 'r-1' });
    expect(created.isNew).toBe(true);
    expect(created.userMessage).toMatchObject({
      role: 'user',
      content: '  What is   a durable workflow? ',
      parentId: null,
    });
    expect(created.turn).toMatchObject({ status: 'queued', userId: 'u-ada', workflowId: `turn:${created.turn.id}` });
    expect(store.conversations.get('c-1')).toMatchObject({
      currentMessageId: created.userMessage.id,
      title: 'What is a durable workflow?',
    });
  });

  it('answers with the persisted reply once the workflow saved it', async () => {
    const { service, runner } = setup();
    const created = await service.create(ada, send('hello'), { requestId: 'r-1' });
    const answer = await service.answer(created);
    expect(answer).toMatchObject({
      turnId: created.turn.id,
      userMessage: { id: created.userMessage.id, content: 'hello' },
      assistantMessage: { id: created.turn.assistantMessageId, role: 'assistant', turnId: created.turn.id },
      citations: [],
    });
    expect(runner.runAndWait).toHaveBeenCalledTimes(1);
  });

  it('maps one Idempotency-Key to one turn, and refuses it for a different request', async () => {
    const { service, store } = setup();
    const first = await service.create(ada, send('once'), { idempotencyKey: 'k-1', requestId: 'r-1' });
    const again = await service.create(ada, send('once'), { idempotencyKey: 'k-1', requestId: 'r-2' });
    expect(again).toMatchObject({ isNew: false, turn: { id: first.turn.id } });
    expect(store.turns.size).toBe(1);
    expect(await codeOf(service.create(ada, send('twice'), { idempotencyKey: 'k-1', requestId: 'r-3' }))).toBe(
      '422 idempotency_key_reused',
    );
    expect(store.turns.size).toBe(1);
  });

  it('refuses, writing nothing: a stranger (404), a model nobody serves, files not the sender own, a foreign parent', async () => {
    const { service, store } = setup();
    const before = store.messages.size;
    expect(await codeOf(service.create(eve, send('hi'), { requestId: 'r' }))).toBe('404 not_found');
    expect(await codeOf(service.create(ada, send('hi', { model: 'gpt-none' }), { requestId: 'r' }))).toBe(
      '400 validation_failed',
    );
    expect(await codeOf(service.create(ada, send('hi', { fileIds: ['f-2'] }), { requestId: 'r' }))).toBe(
      '400 validation_failed',
    );
    expect(
      await codeOf(
        service.create(ada, send('hi', { parentMessageId: '00000000-0000-4000-8000-000000000000' }), {
          requestId: 'r',
        }),
      ),
    ).toBe('404 not_found');
    expect(store.messages.size).toBe(before);
    expect(store.turns.size).toBe(0);
  });

  it('regenerates an existing user message as a new turn without copying it', async () => {
    const { service, store } = setup();
    const first = await service.create(ada, send('hello'), { requestId: 'r-1' });
    const regenerated = await service.create(
      ada,
      { kind: 'regenerate', conversationId: 'c-1', userMessageId: first.userMessage.id },
      { requestId: 'r-2' },
    );
    expect(regenerated.turn.userMessageId).toBe(first.userMessage.id);
    expect(regenerated.turn.assistantMessageId).not.toBe(first.turn.assistantMessageId);
    expect([...store.messages.values()].filter((m) => m.role === 'user')).toHaveLength(1);
  });

  it("gives a message without tools the conversation's, less any no longer offered; [] means none this time", async () => {
    const { service, store, runner } = setup();
    store.conversations.get('c-1')!.tools = ['calculator', 'retired_tool'];
    const inherited = await service.create(ada, send('2+2?'), { requestId: 'r-1' });
    expect(inherited.turn.options).toEqual({ tools: ['calculator'] });
    const none = await service.create(ada, send('no tools', { tools: [] }), { requestId: 'r-2' });
    expect(none.turn.options).toBeNull();
    const own = await service.create(ada, send('time?', { tools: ['current_time'] }), { requestId: 'r-3' });
    expect(own.turn.options).toEqual({ tools: ['current_time'] });
    // A regenerate (no tools of its own) answers with the conversation's tools too.
    const again = await service.create(
      ada,
      { kind: 'regenerate', conversationId: 'c-1', userMessageId: none.userMessage.id },
      { requestId: 'r-4' },
    );
    expect(again.turn.options).toEqual({ tools: ['calculator'] });
    await service.answer(again);
    expect(runner.started.at(-1)).toMatchObject({ turnId: again.turn.id, tools: ['calculator'] });
    // A tool the message names must be offered: refused before anything is written.
    const turns = store.turns.size;
    expect(await codeOf(service.create(ada, send('x', { tools: ['retired_tool'] }), { requestId: 'r-5' }))).toBe(
      '400 validation_failed',
    );
    expect(store.turns.size).toBe(turns);
  });

  it('tells a waiting request why its turn ended without an answer', async () => {
    const { service, runner } = setup();
    const created = await service.create(ada, send('hello'), { requestId: 'r-1' });
    runner.runAndWait.mockRejectedValueOnce(new TurnFailedError('llm_bad_request', 'prompt too long'));
    expect(await codeOf(service.answer(created))).toBe('502 upstream_unavailable');
    runner.runAndWait.mockRejectedValueOnce(new TurnFailedError('cancelled', 'The turn was cancelled'));
    expect(await codeOf(service.answer(created))).toBe('409 turn_cancelled');
    runner.runAndWait.mockRejectedValueOnce(new TurnFailedError('ContextNotFound', 'gone'));
    expect(await codeOf(service.answer(created))).toBe('404 not_found');
    runner.runAndWait.mockImplementationOnce(() => new Promise(() => undefined));
    expect(await codeOf(service.answer(created))).toBe('504 turn_timeout');
  });

  it('answers a retried request of a turn that already ended from the database', async () => {
    const { service, store, runner } = setup();
    const created = await service.create(ada, send('hello'), { idempotencyKey: 'k', requestId: 'r-1' });
    await service.answer(created);
    runner.runAndWait.mockRejectedValueOnce(new TurnAlreadyClosedError('closed'));
    const retried = await service.create(ada, send('hello'), { idempotencyKey: 'k', requestId: 'r-2' });
    await expect(service.answer(retried)).resolves.toMatchObject({
      assistantMessage: { id: created.turn.assistantMessageId },
    });
    store.turns.get(created.turn.id)!.status = 'failed';
    store.turns.get(created.turn.id)!.errorCode = 'llm_auth';
    const failed = await service.create(ada, send('hello'), { idempotencyKey: 'k', requestId: 'r-3' });
    expect(await codeOf(service.answer(failed))).toBe('502 upstream_unavailable');
  });

  it('shows a turn only to who may read its conversation', async () => {
    const { service } = setup();
    const created = await service.create(ada, send('hello'), { requestId: 'r-1' });
    await expect(service.get(ada, created.turn.id)).resolves.toMatchObject({ id: created.turn.id, status: 'queued' });
    await expect(service.get(eve, created.turn.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(eve, created.turn.id)).rejects.not.toBeInstanceOf(ForbiddenError);
  });

  it('rebuilds the final event of an ended turn from the database', async () => {
    const { service, store } = setup();
    const created = await service.create(ada, send('hello'), { requestId: 'r-1' });
    const outcome = () => service.eventSource(created.turn.id).outcome();
    await expect(outcome()).resolves.toEqual({ ended: false });
    await service.answer(created);
    await expect(outcome()).resolves.toMatchObject({
      ended: true,
      terminal: { event: 'message.completed', data: { assistantMessage: { id: created.turn.assistantMessageId } } },
    });
    Object.assign(store.turns.get(created.turn.id)!, { status: 'failed', errorCode: 'llm_auth', errorDetail: 'key' });
    await expect(outcome()).resolves.toEqual({
      ended: true,
      terminal: { event: 'turn.failed', data: { code: 'llm_auth', detail: 'key' } },
    });
  });
});
