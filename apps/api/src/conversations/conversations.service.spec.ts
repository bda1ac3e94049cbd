import { AuditWriter } from '#libs/audit/audit-writer';
import type { AppError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { ConversationAccess } from '../access/conversation-access';
import { createInMemoryDatabase } from '../access/testing/in-memory-database';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { builtinOfferedTools } from '../tools/testing/builtin-offered-tools';
import { ConversationsService } from './conversations.service';
import type { UpdateConversationDto } from './dto/update-conversation.dto';

const client: ClientInfo = { ip: '203.0.113.7', userAgent: 'spec', requestId: 'req-1' };

/** The error code a call throws (and the fields it names), or 'ok'. */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    const { code, extra } = error as AppError;
    return extra.errors ? `${code} ${extra.errors.map((e) => e.field).join(',')}` : code;
  }
}

function setUp() {
  const memory = createInMemoryDatabase();
  const models = new ModelCatalog([
    { name: 'local', baseUrl: 'http://127.0.0.1:1/v1', models: ['small', 'large'], priority: 0 },
  ]);
  const service = new ConversationsService(
    memory.db,
    new AuditWriter(memory.db),
    new ConversationAccess(memory.db),
    models,
    builtinOfferedTools(memory.db),
  );
  const owner = memory.addUser('owner');
  const reader = memory.addUser('reader');
  const writer = memory.addUser('writer');
  const stranger = memory.addUser('stranger');
  return { memory, service, owner, reader, writer, stranger };
}

describe('ConversationsService.list', () => {
  it('lists own and shared conversations, unarchived by default and only archived ones on request', async () => {
    const { memory, service, owner, reader } = setUp();
    memory.addConversation(owner, { title: 'Mine' });
    memory.addConversation(owner, { title: 'Mine, archived', archivedAt: new Date('2030-01-01') });
    const theirs = memory.addConversation(reader, { title: 'Shared with me' });
    memory.share(theirs, owner, 'write');
    memory.addConversation(reader, { title: 'Not shared' });

    const active = await service.list(owner, {});
    expect(active.items.map((c) => [c.title, c.permission, c.shared])).toEqual([
      ['Shared with me', 'write', true],
      ['Mine', 'owner', false],
    ]);
    const archived = await service.list(owner, { archived: true });
    expect(archived.items.map((c) => c.title)).toEqual(['Mine, archived']);
  });

  it('filters on a case-insensitive part of the title, taking % and _ literally', async () => {
    const { memory, service, owner } = setUp();
    for (const title of ['Budget 100% done', 'Budget 100 percent', 'snake_case names', 'snakeXcase names']) {
      memory.addConversation(owner, { title });
    }
    const titles = async (q: string) => (await service.list(owner, { q })).items.map((c) => c.title).sort();
    expect(await titles('BUDGET')).toEqual(['Budget 100 percent', 'Budget 100% done']);
    expect(await titles('100%')).toEqual(['Budget 100% done']);
    expect(await titles('e_c')).toEqual(['snake_case names']);
  });

  it('pages most recently active first across owned and shared conversations, without gaps or repeats', async () => {
    const { memory, service, owner, reader } = setUp();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const mine = memory.addConversation(owner, { title: `own ${i}` });
      const theirs = memory.addConversation(reader, { title: `shared ${i}` });
      memory.share(theirs, owner, 'read');
      created.push(mine.title, theirs.title);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.list(owner, { limit: 3, cursor });
      seen.push(...page.items.map((c) => c.title));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...created].reverse());
  });

  it('refuses a cursor it did not hand out', async () => {
    const { service, owner } = setUp();
    expect(await refusal(() => service.list(owner, { cursor: 'not-a-cursor' }))).toBe('validation_failed cursor');
  });
});

describe('ConversationsService.update', () => {
  function withConversation() {
    const context = setUp();
    const conversation = context.memory.addConversation(context.owner, { title: 'Plans', model: 'small' });
    context.memory.share(conversation, context.reader, 'read');
    context.memory.share(conversation, context.writer, 'write');
    const update = (principal: Principal, dto: UpdateConversationDto) =>
      context.service.update(principal, conversation.id, dto, client);
    return { ...context, conversation, update };
  }

  it('refuses an empty body, naming (body), and writes nothing', async () => {
    const { memory, owner, update } = withConversation();
    expect(await refusal(() => update(owner, {}))).toBe('validation_failed (body)');
    expect(memory.state().audit).toEqual([]);
  });

  it('lets the owner change everything: trimmed title, archive, model and system prompt (null clears)', async () => {
    const { memory, owner, update, conversation } = withConversation();
    const view = await update(owner, { title: '  Renamed  ', archived: true, model: null, systemPrompt: 'Be brief' });
    expect(view).toMatchObject({ title: 'Renamed', archived: true, model: null, systemPrompt: 'Be brief' });
    expect(view.updatedAt > conversation.updatedAt.toISOString()).toBe(true);
    expect(memory.state().audit).toEqual([
      expect.objectContaining({
        actorId: owner.userId,
        action: 'conversation.updated',
        targetId: conversation.id,
        metadata: { fields: ['title', 'archived', 'model', 'systemPrompt'] },
        ip: client.ip,
        requestId: client.requestId,
      }),
    ]);
    const unarchived = await update(owner, { archived: false });
    expect(unarchived.archived).toBe(false);
  });

  it('lets a write sharee rename but not archive or reconfigure, a read sharee nothing, a stranger not see it', async () => {
    const { owner, reader, writer, stranger, update } = withConversation();
    expect(await refusal(() => update(writer, { title: 'By the writer' }))).toBe('ok');
    expect(await refusal(() => update(writer, { archived: true }))).toBe('forbidden');
    expect(await refusal(() => update(writer, { systemPrompt: 'x' }))).toBe('forbidden');
    // A body naming both kinds needs the owner.
    expect(await refusal(() => update(writer, { title: 'Both', model: 'large' }))).toBe('forbidden');
    expect(await refusal(() => update(reader, { title: 'By the reader' }))).toBe('forbidden');
    expect(await refusal(() => update(stranger, { title: 'By a stranger' }))).toBe('not_found');
    expect((await update(owner, { model: 'large' })).title).toBe('By the writer');
  });

  it('refuses a model nobody serves before anything is written', async () => {
    const { memory, owner, update } = withConversation();
    expect(await refusal(() => update(owner, { model: 'unknown-model' }))).toBe('validation_failed model');
    expect(memory.state().audit).toEqual([]);
  });

  it("sets the conversation's tools (owner only, each offered, [] or null clears) and creates with them", async () => {
    const { memory, owner, writer, update, service } = withConversation();
    expect((await update(owner, { tools: ['calculator', 'calculator', 'current_time'] })).tools).toEqual([
      'calculator',
      'current_time',
    ]);
    expect(await refusal(() => update(writer, { tools: ['calculator'] }))).toBe('forbidden');
    const audited = memory.state().audit.length;
    expect(await refusal(() => update(owner, { tools: ['no_such_tool'] }))).toBe('validation_failed tools');
    expect(memory.state().audit).toHaveLength(audited);
    expect((await update(owner, { tools: [] })).tools).toEqual([]);
    expect((await update(owner, { tools: ['calculator'] })).tools).toEqual(['calculator']);
    expect((await update(owner, { tools: null })).tools).toEqual([]);
    expect((await service.create(owner, { tools: ['current_time'] })).tools).toEqual(['current_time']);
    expect(await refusal(() => service.create(owner, { tools: ['no_such_tool'] }))).toBe('validation_failed tools');
  });

  it('switches branch to any message of the conversation, and answers 404 for a message of another one', async () => {
    const { memory, service, owner, writer, update, conversation } = withConversation();
    const first = memory.addMessage(conversation, { role: 'user', content: 'first' });
    memory.addMessage(conversation, { role: 'assistant', content: 'answer' });
    const other = memory.addConversation(owner);
    const elsewhere = memory.addMessage(other, { role: 'user', content: 'elsewhere' });

    expect(await refusal(() => update(owner, { currentMessageId: elsewhere.id }))).toBe('not_found');
    expect((await service.get(owner, conversation.id)).messages.map((m) => m.content)).toEqual(['first', 'answer']);
    expect(memory.state().audit).toEqual([]);

    const switched = await update(writer, { currentMessageId: first.id.toUpperCase() });
    expect(switched.currentMessageId).toBe(first.id);
    expect((await service.get(owner, conversation.id)).messages.map((m) => m.content)).toEqual(['first']);
  });
});

describe('ConversationsService.get, messages and delete', () => {
  it("shows the current branch with the caller's own feedback only", async () => {
    const { memory, service, owner, reader } = setUp();
    const conversation = memory.addConversation(owner);
    memory.share(conversation, reader, 'read');
    memory.addMessage(conversation, { role: 'user', content: 'q' });
    const answer = memory.addMessage(conversation, { role: 'assistant', content: 'a' });
    await memory.db.messages.saveFeedback({
      messageId: answer.id,
      userId: reader.userId,
      rating: 'up',
      comment: 'nice',
    });

    const asReader = await service.get(reader, conversation.id);
    expect(asReader).toMatchObject({ permission: 'read', shared: true });
    expect(asReader.messages.map((m) => m.feedback?.rating ?? null)).toEqual([null, 'up']);
    const asOwner = await service.get(owner, conversation.id);
    expect(asOwner.messages.map((m) => m.feedback)).toEqual([null, null]);
  });

  it('pages every message of every branch oldest first', async () => {
    const { memory, service, owner } = setUp();
    const conversation = memory.addConversation(owner);
    const contents = ['a', 'b', 'c', 'd', 'e'];
    for (const content of contents) memory.addMessage(conversation, { role: 'user', content, parentId: null });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.listMessages(owner, conversation.id, { limit: 2, cursor });
      seen.push(...page.items.map((m) => m.content));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(contents);
  });

  it('lets only the owner delete, and audits it', async () => {
    const { memory, service, owner, writer } = setUp();
    const conversation = memory.addConversation(owner);
    memory.share(conversation, writer, 'write');
    expect(await refusal(() => service.delete(writer, conversation.id, client))).toBe('forbidden');
    await service.delete(owner, conversation.id, client);
    expect(memory.state().conversations).toEqual([]);
    expect(memory.state().shares).toEqual([]);
    expect(memory.state().audit.map((a) => a.action)).toEqual(['conversation.deleted']);
    expect(await refusal(() => service.get(owner, conversation.id))).toBe('not_found');
  });
});
