import { AuditWriter } from '#libs/audit/audit-writer';
import type { ConversationExport } from '#libs/chat/conversation-export';
import type { AppError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { ConversationAccess } from '../access/conversation-access';
import { createInMemoryDatabase } from '../access/testing/in-memory-database';
import type { ClientInfo } from '../common/client-info';
import { builtinOfferedTools } from '../tools/testing/builtin-offered-tools';
import { ConversationTransferService } from './conversation-transfer.service';

const client: ClientInfo = { ip: null, userAgent: null, requestId: 'req-1' };

function setUp() {
  const memory = createInMemoryDatabase();
  const models = new ModelCatalog([
    { name: 'local', baseUrl: 'http://127.0.0.1:1/v1', models: ['small'], priority: 0 },
  ]);
  const transfer = new ConversationTransferService(
    memory.db,
    new AuditWriter(memory.db),
    new ConversationAccess(memory.db),
    models,
    builtinOfferedTools(memory.db),
  );
  const owner = memory.addUser('owner');
  const reader = memory.addUser('reader');
  const stranger = memory.addUser('stranger');
  // Two branches: q1 → a1, and q1 → a1' (regenerated), then q2 on the second; the current branch ends at a2.
  const conversation = memory.addConversation(owner, {
    title: 'Trip',
    model: 'small',
    systemPrompt: 'Be brief',
    tools: ['calculator'],
  });
  memory.share(conversation, reader, 'read');
  const q1 = memory.addMessage(conversation, { role: 'user', content: 'Where to?' });
  memory.addMessage(conversation, { role: 'assistant', content: 'Lisbon', model: 'small' });
  memory.addMessage(
    conversation,
    {
      role: 'assistant',
      content: 'Porto',
      parentId: q1.id,
      model: 'small',
      citations: [{ kind: 'web', title: 'Porto guide', url: 'https://example.com/porto', snippet: 'Porto is…' }],
      usage: { promptTokens: 12, completionTokens: 3 },
    },
    { keepCurrent: true },
  );
  return { memory, transfer, owner, reader, stranger, conversation };
}

async function exportJson(transfer: ConversationTransferService, ...args: Parameters<typeof transfer.export>) {
  const file = await transfer.export(...args);
  return JSON.parse(file.body) as ConversationExport;
}

/** The export with ids replaced by their position among the messages, and the times an import makes new dropped. */
function normalised(file: ConversationExport) {
  const position = new Map(file.messages.map((m, i) => [m.id, i]));
  const { id: _id, createdAt: _created, updatedAt: _updated, ...conversation } = file.conversation;
  return {
    conversation: { ...conversation, currentMessageId: position.get(conversation.currentMessageId ?? '') ?? null },
    messages: file.messages.map((m) => ({
      ...m,
      id: position.get(m.id),
      parentId: m.parentId === null ? null : position.get(m.parentId),
    })),
  };
}

describe('ConversationTransferService', () => {
  it('round-trips every branch: export(import(export(c))) equals export(c) up to ids and times', async () => {
    const { memory, transfer, owner, reader, conversation } = setUp();
    const original = await exportJson(transfer, reader, conversation.id, 'json');
    expect(original.messages.map((m) => m.content)).toEqual(['Where to?', 'Lisbon', 'Porto']);

    const imported = await transfer.import(reader, original, client);
    expect(imported).toMatchObject({ title: 'Trip', permission: 'owner', shared: false, archived: false });
    expect(imported.id).not.toBe(conversation.id);

    const copy = await exportJson(transfer, reader, imported.id, 'json');
    expect(normalised(copy)).toEqual(normalised(original));
    expect(copy.messages.map((m) => m.id)).not.toContain(original.messages[0]!.id);
    // New ids ascend in file order, so messages of the same millisecond keep their order.
    expect([...copy.messages.map((m) => m.id)].sort()).toEqual(copy.messages.map((m) => m.id));
    expect(memory.state().audit).toEqual([
      expect.objectContaining({
        actorId: reader.userId,
        action: 'conversation.imported',
        targetId: imported.id,
        metadata: { messages: 3 },
      }),
    ]);
    // The owner's original is untouched and not the importer's.
    await expect(transfer.export(owner, imported.id, 'json')).rejects.toMatchObject({ code: 'not_found' });
  });

  it("imports the conversation's tools this server offers and leaves out the others", async () => {
    const { transfer, reader, conversation } = setUp();
    const original = await exportJson(transfer, reader, conversation.id, 'json');
    expect(original.conversation.tools).toEqual(['calculator']);
    const file = { ...original, conversation: { ...original.conversation, tools: ['elsewhere_only', 'current_time'] } };
    expect((await transfer.import(reader, file, client)).tools).toEqual(['current_time']);
  });

  it('exports the current branch as Markdown, with the title, system prompt and sources', async () => {
    const { memory, transfer, owner, conversation } = setUp();
    const porto = memory.state().messages.find((m) => m.content === 'Porto')!;
    await memory.db.conversations.update(conversation.id, { currentMessageId: porto.id });
    const file = await transfer.export(owner, conversation.id, 'md');
    expect(file).toMatchObject({
      filename: `conversation-${conversation.id}.md`,
      contentType: 'text/markdown; charset=utf-8',
    });
    expect(file.body).toContain('# Trip');
    expect(file.body).toContain('## System prompt\n\nBe brief');
    expect(file.body).toContain('Porto');
    expect(file.body).not.toContain('Lisbon');
    expect(file.body).toContain('1. [Porto guide](https://example.com/porto)');
  });

  it('exports only to those who may read the conversation', async () => {
    const { transfer, stranger, conversation } = setUp();
    await expect(transfer.export(stranger, conversation.id, 'json')).rejects.toMatchObject({ code: 'not_found' });
  });

  describe('import refuses, naming the field and writing nothing', () => {
    async function refusedFields(edit: (file: ConversationExport) => void): Promise<string[]> {
      const { memory, transfer, owner, conversation } = setUp();
      const file = await exportJson(transfer, owner, conversation.id, 'json');
      edit(file);
      const before = memory.state().conversations.length;
      try {
        await transfer.import(owner, file, client);
      } catch (error) {
        expect((error as AppError).code).toBe('validation_failed');
        expect(memory.state().conversations).toHaveLength(before);
        expect(memory.state().audit).toEqual([]);
        return ((error as AppError).extra.errors ?? []).map((e) => e.field);
      }
      throw new Error('the import was accepted');
    }

    it('a cycle of parent links', async () => {
      const fields = await refusedFields((file) => {
        file.messages[0]!.parentId = file.messages[1]!.id;
      });
      // Each message whose walk to a root runs into the cycle is named; the first is the one that closes it.
      expect(fields[0]).toBe('messages.0.parentId');
    });

    it('a parent that is not a message of the file', async () => {
      const fields = await refusedFields((file) => {
        file.messages[2]!.parentId = '00000000-0000-4000-8000-ffffffffffff';
      });
      expect(fields).toEqual(['messages.2.parentId']);
    });

    it('a current message that is not in the file, or an id used twice', async () => {
      const fields = await refusedFields((file) => {
        file.conversation.currentMessageId = '00000000-0000-4000-8000-ffffffffffff';
        file.messages[2]!.id = file.messages[1]!.id;
      });
      expect(fields).toEqual(['messages.2.id', 'conversation.currentMessageId']);
    });

    it('a model no provider here serves', async () => {
      const fields = await refusedFields((file) => {
        file.conversation.model = 'gone-model';
      });
      expect(fields).toEqual(['conversation.model']);
    });
  });
});
