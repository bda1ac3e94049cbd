import fc from 'fast-check';
import type { ConversationEntity } from '../db/entities/conversation.entity';
import type { MessageEntity } from '../db/entities/message.entity';
import { buildExport, EXPORT_FORMAT, EXPORT_VERSION, toMarkdown, treeProblems } from './conversation-export';

const conversation = {
  id: 'c1',
  title: 'Durable\nworkflows',
  model: 'fake-model',
  systemPrompt: 'Be brief.',
  archivedAt: null,
  currentMessageId: 'm3',
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  updatedAt: new Date('2026-01-02T00:00:00.000Z'),
} as unknown as ConversationEntity;

function message(id: string, parentId: string | null, role: 'user' | 'assistant', at: number): MessageEntity {
  return {
    id,
    conversationId: 'c1',
    parentId,
    role,
    content: `${role} ${id}`,
    status: 'complete',
    model: role === 'assistant' ? 'fake-model' : null,
    turnId: null,
    citations:
      role === 'assistant' ? [{ kind: 'web', title: 'Temporal', url: 'https://temporal.io', snippet: 's' }] : null,
    usage: null,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, at)),
  };
}

describe('conversation export', () => {
  it('writes every message oldest first (ties by id) with the format and version', () => {
    const file = buildExport(
      conversation,
      [message('m3', 'm1', 'assistant', 2), message('m2', 'm1', 'assistant', 2), message('m1', null, 'user', 1)],
      new Date('2026-02-01T00:00:00.000Z'),
    );
    expect([file.format, file.version]).toEqual([EXPORT_FORMAT, EXPORT_VERSION]);
    expect(file.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
    expect(file.conversation).toMatchObject({ archived: false, currentMessageId: 'm3', title: 'Durable\nworkflows' });
    expect(file.messages[0]).toEqual({
      id: 'm1',
      parentId: null,
      role: 'user',
      content: 'user m1',
      status: 'complete',
      model: null,
      citations: [],
      usage: null,
      createdAt: '2026-01-01T00:00:01.000Z',
    });
  });

  it('renders the current branch as Markdown with headings and sources', () => {
    const md = toMarkdown(conversation, [message('m1', null, 'user', 1), message('m3', 'm1', 'assistant', 2)]);
    expect(md).toContain('# Durable workflows\n');
    expect(md).toContain('## System prompt\n\nBe brief.');
    expect(md).toContain('## User\n\nuser m1');
    expect(md).toContain('## Assistant (fake-model)\n\nassistant m3');
    expect(md).toContain('1. [Temporal](https://temporal.io)');
  });

  describe('tree checks', () => {
    it('accepts a forest and an empty file', () => {
      expect(treeProblems([], null)).toEqual([]);
      expect(
        treeProblems(
          [
            { id: 'a', parentId: null },
            { id: 'b', parentId: 'a' },
            { id: 'c', parentId: 'a' },
            { id: 'd', parentId: null },
          ],
          'c',
        ),
      ).toEqual([]);
    });

    it('names duplicate ids, dangling parents and a current message that is not in the file', () => {
      expect(
        treeProblems(
          [
            { id: 'a', parentId: null },
            { id: 'A', parentId: null },
            { id: 'b', parentId: 'zz' },
          ],
          'nope',
        ).map((p) => p.field),
      ).toEqual(['messages.1.id', 'messages.2.parentId', 'conversation.currentMessageId']);
    });

    it('finds cycles, self-parents included', () => {
      expect(treeProblems([{ id: 'a', parentId: 'a' }], null).map((p) => p.field)).toEqual(['messages.0.parentId']);
      const fields = treeProblems(
        [
          { id: 'r', parentId: null },
          { id: 'a', parentId: 'c' },
          { id: 'b', parentId: 'a' },
          { id: 'c', parentId: 'b' },
        ],
        null,
      ).map((p) => p.field);
      expect(fields).toEqual(['messages.1.parentId', 'messages.2.parentId', 'messages.3.parentId']);
    });

    it('reports a cycle exactly when following parents from some message never reaches a root', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: -1, max: 7 }), { minLength: 1, maxLength: 8 }), (parents) => {
          const messages = parents.map((p, i) => ({
            id: `m${i}`,
            parentId: p < 0 || p >= parents.length ? null : `m${p}`,
          }));
          const parentOf = new Map(messages.map((m) => [m.id, m.parentId]));
          const reachesRoot = (id: string): boolean => {
            let at: string | null = id;
            for (let steps = 0; at !== null; steps++) {
              if (steps > messages.length) return false;
              at = parentOf.get(at) ?? null;
            }
            return true;
          };
          const cyclic = messages.some((m) => !reachesRoot(m.id));
          expect(treeProblems(messages, null).length > 0).toBe(cyclic);
        }),
      );
    });
  });
});
