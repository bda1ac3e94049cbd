import type { Response } from 'supertest';
import { API, MISSING_ID, PROBLEM_JSON } from './support/api';
import { count, Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';

/*
 * Conversations beyond create/read/delete: the list's archived and title filters with paging over owned and shared
 * conversations; PATCH and who may change what; every message of the tree, paged; feedback; export and import (a
 * lossless round trip); full-text search over exactly the messages the caller may read.
 */

interface Msg {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  feedback: { rating: string; comment: string | null } | null;
}
interface ExportFile {
  format: string;
  version: number;
  exportedAt: string;
  conversation: Record<string, unknown> & { id: string; currentMessageId: string | null };
  messages: (Record<string, unknown> & { id: string; parentId: string | null })[];
}

describe('conversations: list, patch, messages, feedback, export/import, search (real stack; fake LLM)', () => {
  let h: Harness;
  let owner: TestUser;
  let sharee: TestUser;
  let stranger: TestUser;

  beforeAll(async () => {
    h = await startHarness('conversations');
    owner = await signUp(h, 'olga');
    sharee = await signUp(h, 'sam');
    stranger = await signUp(h, 'trent');
  });
  afterAll(async () => h?.close());

  async function create(title: string, auth = owner.auth, body: Record<string, unknown> = {}): Promise<string> {
    const res = await h.http
      .post(`${API}/conversations`)
      .set('Authorization', auth)
      .send({ title, ...body });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function send(id: string, content: string, auth = owner.auth): Promise<{ user: Msg; assistant: Msg }> {
    const res = await h.http.post(`${API}/conversations/${id}/messages`).set('Authorization', auth).send({ content });
    expect(res.status).toBe(200);
    await waitFor(async () => {
      const rows: unknown[] = await h.db.query(
        "SELECT id FROM audit_log WHERE target_id = ? AND action IN ('turn.completed', 'turn.failed')",
        [res.body.turnId],
      );
      return rows.length > 0 ? true : undefined;
    });
    return { user: res.body.userMessage as Msg, assistant: res.body.assistantMessage as Msg };
  }

  const share = async (id: string, who: TestUser, permission: 'read' | 'write') => {
    const res = await h.http
      .post(`${API}/conversations/${id}/shares`)
      .set('Authorization', owner.auth)
      .send({ email: who.email, permission });
    expect(res.status).toBe(201);
  };
  const unshare = async (id: string, who: TestUser) => {
    const res = await h.http.delete(`${API}/conversations/${id}/shares/${who.userId}`).set('Authorization', owner.auth);
    expect(res.status).toBe(204);
  };
  const patch = (id: string, body: unknown, auth = owner.auth) =>
    h.http
      .patch(`${API}/conversations/${id}`)
      .set('Authorization', auth)
      .send(body as object);

  async function titles(query: string, auth = owner.auth): Promise<string[]> {
    const res = await h.http.get(`${API}/conversations?limit=100&${query}`).set('Authorization', auth);
    expect(res.status).toBe(200);
    return (res.body.items as { title: string }[]).map((c) => c.title);
  }

  function expectProblem(res: Response, status: number, code: string, fields?: string[]): void {
    expect([res.status, res.body.code]).toEqual([status, code]);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    if (fields) {
      const found = ((res.body.errors ?? []) as { field: string }[]).map((e) => e.field);
      expect([...new Set(found)].sort()).toEqual([...fields].sort());
    }
  }

  async function writes(): Promise<Record<string, number | string>> {
    const tables = ['conversations', 'messages', 'turns', 'message_feedback', 'conversation_shares'];
    const counts = Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(h, t)] as const)));
    const rows: { Table: string; Checksum: string | number | null }[] = await h.db.query(
      `CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')}`,
    );
    return { ...counts, ...Object.fromEntries(rows.map((r) => [`sum:${r.Table}`, String(r.Checksum)])) };
  }

  describe('GET /conversations filters', () => {
    let sharedId: string;

    beforeAll(async () => {
      for (const title of ['100% done', '100 percent', 'snake_case notes', 'snakeXcase notes', 'Plain Title']) {
        await create(title);
      }
      const archived = await create('Archived report');
      expect((await patch(archived, { archived: true })).body.archived).toBe(true);
      sharedId = await create('Shared plain notes', sharee.auth);
      const granted = await h.http
        .post(`${API}/conversations/${sharedId}/shares`)
        .set('Authorization', sharee.auth)
        .send({ email: owner.email, permission: 'read' });
      expect(granted.status).toBe(201);
    });

    it('leaves archived conversations out by default and lists only them with archived=true', async () => {
      const listed = await titles('');
      expect(listed).not.toContain('Archived report');
      expect(listed).toEqual(expect.arrayContaining(['Plain Title', 'Shared plain notes']));
      expect(await titles('archived=false')).toEqual(listed);
      expect(await titles('archived=true')).toEqual(['Archived report']);
    });

    it('searches titles case-insensitively, with % and _ taken literally, shared conversations included', async () => {
      expect(await titles('q=PLAIN')).toEqual(['Shared plain notes', 'Plain Title']);
      expect(await titles(`q=${encodeURIComponent('%')}`)).toEqual(['100% done']);
      expect(await titles('q=_')).toEqual(['snake_case notes']);
      expect(await titles('q=report')).toEqual([]);
      expect(await titles('q=report&archived=true')).toEqual(['Archived report']);
    });

    it('pages through owned and shared conversations without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: Response = await h.http
          .get(`${API}/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set('Authorization', owner.auth);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...(res.body.items as { title: string }[]).map((c) => c.title));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual(await titles(''));
      expect(seen).toHaveLength(6);
    });

    it('rejects an archived value that is not true or false', async () => {
      expectProblem(
        await h.http.get(`${API}/conversations?archived=yes`).set('Authorization', owner.auth),
        400,
        'validation_failed',
        ['archived'],
      );
    });
  });

  describe('PATCH /conversations/:id', () => {
    it('changes what the body names, trims the title, clears model and systemPrompt with null', async () => {
      const id = await create('Before', owner.auth, { model: 'fake-model', systemPrompt: 'Be brief.' });
      const renamed = await patch(id, { title: '  After  ' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id, title: 'After', model: 'fake-model', systemPrompt: 'Be brief.' });

      const changed = await patch(id, { model: null, systemPrompt: 'Answer in French.', archived: true });
      expect(changed.body).toMatchObject({
        title: 'After',
        model: null,
        systemPrompt: 'Answer in French.',
        archived: true,
      });
      const cleared = await patch(id, { systemPrompt: null, archived: false });
      expect(cleared.body).toMatchObject({ systemPrompt: null, archived: false });
      const read = await h.http.get(`${API}/conversations/${id}`).set('Authorization', owner.auth);
      expect(read.body).toMatchObject({ title: 'After', model: null, systemPrompt: null, archived: false });
    });

    it('refuses an empty body, nulls that mean nothing and unknown fields, writing nothing', async () => {
      const id = await create('Untouched');
      const before = await writes();
      expectProblem(await patch(id, {}), 400, 'validation_failed', ['(body)']);
      expectProblem(await patch(id, { title: null, archived: null }), 400, 'validation_failed', ['title', 'archived']);
      expectProblem(await patch(id, { title: '   ' }), 400, 'validation_failed', ['title']);
      expectProblem(await patch(id, { ownerId: stranger.userId }), 400, 'validation_failed', ['ownerId']);
      expectProblem(await patch(id, { archived: 'yes', model: 'two words' }), 400, 'validation_failed', [
        'archived',
        'model',
      ]);
      expectProblem(await patch(MISSING_ID, { title: 'x' }), 404, 'not_found');
      expect(await writes()).toEqual(before);
    });

    it('a write sharee may rename but not archive or reconfigure; a read sharee nothing; a stranger sees 404', async () => {
      const id = await create('Team notes');
      await share(id, sharee, 'write');
      const renamed = await patch(id, { title: 'Team notes (walt)' }, sharee.auth);
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ title: 'Team notes (walt)', shared: true, permission: 'write' });

      let before = await writes();
      expectProblem(await patch(id, { archived: true }, sharee.auth), 403, 'forbidden');
      expectProblem(await patch(id, { title: 'x', systemPrompt: 'x' }, sharee.auth), 403, 'forbidden');
      expect(await writes()).toEqual(before);

      await share(id, sharee, 'read');
      before = await writes();
      expectProblem(await patch(id, { title: 'x' }, sharee.auth), 403, 'forbidden');
      expectProblem(await patch(id, { currentMessageId: MISSING_ID }, sharee.auth), 403, 'forbidden');
      expectProblem(await patch(id, { title: 'x' }, stranger.auth), 404, 'not_found');
      expect(await writes()).toEqual(before);
    });
  });

  describe('GET /conversations/:id/messages and feedback', () => {
    it('lists every message of every branch in creation order, paged, each with its parent', async () => {
      const id = await create('Paged');
      const a = await send(id, 'one');
      const b = await send(id, 'two');
      const regen = await h.http.post(`${API}/messages/${b.assistant.id}/regenerate`).set('Authorization', owner.auth);
      expect(regen.status).toBe(200);

      const first = await h.http.get(`${API}/conversations/${id}/messages?limit=3`).set('Authorization', owner.auth);
      expect(first.status).toBe(200);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await h.http
        .get(`${API}/conversations/${id}/messages?limit=3&cursor=${first.body.nextCursor}`)
        .set('Authorization', owner.auth);
      expect(second.body.nextCursor).toBeNull();
      const items = [...first.body.items, ...second.body.items] as Msg[];
      expect(items.map((m) => [m.role, m.parentId])).toEqual([
        ['user', null],
        ['assistant', a.user.id],
        ['user', a.assistant.id],
        ['assistant', b.user.id],
        ['assistant', b.user.id],
      ]);
      expect(items[4]).toMatchObject({
        id: regen.body.assistantMessage.id,
        status: 'complete',
        model: 'fake-model',
        citations: [],
        feedback: null,
        createdAt: expect.any(String),
      });
      expectProblem(
        await h.http.get(`${API}/conversations/${id}/messages`).set('Authorization', stranger.auth),
        404,
        'not_found',
      );
    });

    it('keeps one feedback per user and message (upsert), shows each user only their own', async () => {
      const id = await create('Rated');
      const { user, assistant } = await send(id, 'rate me');
      await share(id, sharee, 'read');
      const rate = (body: unknown, auth = owner.auth, messageId = assistant.id) =>
        h.http
          .post(`${API}/messages/${messageId}/feedback`)
          .set('Authorization', auth)
          .send(body as object);

      const created = await rate({ rating: 'up' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ messageId: assistant.id, rating: 'up', comment: null });
      const replaced = await rate({ rating: 'down', comment: 'Too short.' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ rating: 'down', comment: 'Too short.' });
      // A read sharee may rate too: their own row.
      expect((await rate({ rating: 'up' }, sharee.auth)).status).toBe(201);
      const rows: { n: string }[] = await h.db.query(
        'SELECT COUNT(*) AS n FROM message_feedback WHERE message_id = ?',
        [assistant.id],
      );
      expect(Number(rows[0]?.n)).toBe(2);

      const mine = await h.http.get(`${API}/conversations/${id}/messages`).set('Authorization', owner.auth);
      expect((mine.body.items as Msg[]).map((m) => m.feedback?.rating ?? null)).toEqual([null, 'down']);
      const theirs = await h.http.get(`${API}/conversations/${id}`).set('Authorization', sharee.auth);
      expect((theirs.body.messages as Msg[]).map((m) => m.feedback?.rating ?? null)).toEqual([null, 'up']);

      const before = await writes();
      expectProblem(await rate({ rating: 'meh' }), 400, 'validation_failed', ['rating']);
      expectProblem(await rate({ rating: 'up', comment: 'x'.repeat(2001) }), 400, 'validation_failed', ['comment']);
      expectProblem(await rate({ rating: 'up' }, owner.auth, user.id), 400, 'validation_failed', ['id']);
      expectProblem(await rate({ rating: 'up' }, stranger.auth), 404, 'not_found');
      expect(await writes()).toEqual(before);
    });
  });

  describe('export and import', () => {
    async function exportJson(id: string, auth = owner.auth): Promise<ExportFile> {
      const res = await h.http.get(`${API}/conversations/${id}/export?format=json`).set('Authorization', auth);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="conversation-${id}.json"`);
      return JSON.parse(res.text) as ExportFile;
    }

    /** The export with ids replaced by their position and the times the import documents as new dropped. */
    function normalised(file: ExportFile): unknown {
      const index = new Map(file.messages.map((m, i) => [m.id, i]));
      const at = (id: string | null) => (id === null ? null : index.get(id));
      const { id: _id, createdAt: _c, updatedAt: _u, currentMessageId, ...conversation } = file.conversation;
      return {
        format: file.format,
        version: file.version,
        conversation: { ...conversation, currentMessageId: at(currentMessageId) },
        messages: file.messages.map((m) => ({ ...m, id: at(m.id), parentId: at(m.parentId) })),
      };
    }

    it('round-trips every branch: export(import(export(c))) equals export(c) up to ids and times', async () => {
      const id = await create('Round trip', owner.auth, { systemPrompt: 'Be exact.' });
      const a = await send(id, 'first');
      const b = await send(id, 'second');
      const edit = await h.http
        .patch(`${API}/messages/${b.user.id}`)
        .set('Authorization', owner.auth)
        .send({ content: 'second, edited' });
      expect(edit.status).toBe(200);
      await send(id, 'third');
      const switched = await patch(id, { currentMessageId: b.assistant.id });
      expect(switched.status).toBe(200);

      const original = await exportJson(id);
      expect(original).toMatchObject({ format: 'gigachat.conversation', version: 1 });
      expect(original.messages).toHaveLength(8);
      expect(original.conversation).toMatchObject({ title: 'Round trip', systemPrompt: 'Be exact.', archived: false });
      expect(original.messages[0]).toEqual({
        id: a.user.id,
        parentId: null,
        role: 'user',
        content: 'first',
        status: 'complete',
        model: null,
        citations: [],
        usage: null,
        createdAt: expect.any(String),
      });

      const imported = await h.http
        .post(`${API}/conversations/import`)
        .set('Authorization', sharee.auth)
        .send(original);
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ title: 'Round trip', permission: 'owner', shared: false });
      expect(imported.body.id).not.toBe(id);
      const copy = await exportJson(imported.body.id as string, sharee.auth);
      expect(copy.messages.map((m) => m.id).filter((mid) => original.messages.some((o) => o.id === mid))).toEqual([]);
      expect(normalised(copy)).toEqual(normalised(original));

      // The imported copy shows the same current branch and can be continued.
      const branch = await h.http.get(`${API}/conversations/${imported.body.id}`).set('Authorization', sharee.auth);
      expect((branch.body.messages as Msg[]).map((m) => m.content)).toEqual([
        'first',
        a.assistant.content,
        'second',
        b.assistant.content,
      ]);
      const continued = await send(imported.body.id as string, 'fourth', sharee.auth);
      expect(continued.user.parentId).toBe(branch.body.currentMessageId);

      // Markdown: the current branch only, readable.
      const md = await h.http.get(`${API}/conversations/${id}/export?format=md`).set('Authorization', owner.auth);
      expect(md.status).toBe(200);
      expect(md.headers['content-type']).toMatch(/^text\/markdown/);
      expect(md.headers['content-disposition']).toBe(`attachment; filename="conversation-${id}.md"`);
      expect(md.text).toContain('# Round trip');
      expect(md.text).toContain('## System prompt\n\nBe exact.');
      expect(md.text).toContain('## User\n\nsecond\n');
      expect(md.text).not.toContain('second, edited');
      expect(md.text).not.toContain('third');
    });

    it('refuses files that are not a conversation tree, writing nothing', async () => {
      const id = await create('Source');
      await send(id, 'root message');
      const file = await exportJson(id);
      const [root, reply] = file.messages as [ExportFile['messages'][0], ExportFile['messages'][0]];
      const before = await writes();
      const attempt = async (body: unknown, fields: string[]) => {
        const res = await h.http
          .post(`${API}/conversations/import`)
          .set('Authorization', owner.auth)
          .send(body as object);
        expectProblem(res, 400, 'validation_failed', fields);
      };
      await attempt({ ...file, messages: [root, { ...reply, parentId: MISSING_ID }] }, ['messages.1.parentId']);
      await attempt({ ...file, messages: [{ ...root, parentId: reply.id }, reply] }, [
        'messages.0.parentId',
        'messages.1.parentId',
      ]);
      // The file's current message was the reply, whose id is now gone too.
      await attempt({ ...file, messages: [root, { ...reply, id: root.id }] }, [
        'messages.1.id',
        'conversation.currentMessageId',
      ]);
      await attempt({ ...file, messages: [root, { ...reply, role: 'tool' }] }, ['messages.1.role']);
      await attempt({ ...file, conversation: { ...file.conversation, currentMessageId: MISSING_ID } }, [
        'conversation.currentMessageId',
      ]);
      await attempt({ ...file, version: 2 }, ['version']);
      await attempt({ ...file, messages: [{ ...root, extra: true }, reply] }, ['messages.0.extra']);
      await attempt({ ...file, messages: 'none' }, ['messages']);
      await attempt({ format: 'gigachat.conversation', version: 1 }, ['conversation', 'messages']);
      expect(await writes()).toEqual(before);
    });

    it('exports only to those who may read the conversation', async () => {
      const id = await create('Private');
      expectProblem(
        await h.http.get(`${API}/conversations/${id}/export`).set('Authorization', stranger.auth),
        404,
        'not_found',
      );
      expectProblem(
        await h.http.get(`${API}/conversations/${id}/export?format=pdf`).set('Authorization', owner.auth),
        400,
        'validation_failed',
        ['format'],
      );
    });
  });

  describe('GET /search/messages', () => {
    async function search(q: string, auth: string): Promise<{ messageId: string; snippet: string }[]> {
      const res = await h.http.get(`${API}/search/messages`).query({ q }).set('Authorization', auth);
      expect(res.status).toBe(200);
      return res.body.items as { messageId: string; snippet: string }[];
    }

    it("finds the caller's messages, never another user's until shared, and no longer once unshared", async () => {
      const id = await create('Zanzibar trip');
      const { user, assistant } = await send(id, 'Plan a trip to Zanzibarian beaches with snorkelling');

      const found = await h.http
        .get(`${API}/search/messages`)
        .query({ q: 'zanzibarian SNORKELLING' })
        .set('Authorization', owner.auth);
      expect(found.status).toBe(200);
      expect(found.body.items).toEqual([
        {
          messageId: assistant.id,
          conversationId: id,
          conversationTitle: 'Zanzibar trip',
          role: 'assistant',
          snippet: expect.stringContaining('Zanzibarian beaches'),
          createdAt: expect.any(String),
        },
        {
          messageId: user.id,
          conversationId: id,
          conversationTitle: 'Zanzibar trip',
          role: 'user',
          snippet: 'Plan a trip to Zanzibarian beaches with snorkelling',
          createdAt: expect.any(String),
        },
      ]);
      expect(found.body.nextCursor).toBeUndefined();

      // Boolean operators are words to ignore, not syntax; the last word also matches as a prefix.
      expect(await search('+zanzibarian -"snork*" (', owner.auth)).toHaveLength(2);
      expect(await search('snorkel', owner.auth)).toHaveLength(2);
      expect(await search('zanzibarian volcano', owner.auth)).toEqual([]);

      expect(await search('zanzibarian', stranger.auth)).toEqual([]);
      expect(await search('zanzibarian', sharee.auth)).toEqual([]);
      await share(id, sharee, 'read');
      expect((await search('zanzibarian', sharee.auth)).map((hit) => hit.messageId).sort()).toEqual(
        [user.id, assistant.id].sort(),
      );
      await unshare(id, sharee);
      expect(await search('zanzibarian', sharee.auth)).toEqual([]);
    });

    it('pages newest first with a cursor', async () => {
      const id = await create('Pager');
      for (const n of ['one', 'two', 'three']) await send(id, `quokkapage number ${n}`);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res: Response = await h.http
          .get(`${API}/search/messages`)
          .query({ q: 'quokkapage', limit: 4, ...(cursor ? { cursor } : {}) })
          .set('Authorization', owner.auth);
        expect(res.status).toBe(200);
        seen.push(...(res.body.items as { snippet: string }[]).map((hit) => hit.snippet));
        cursor = res.body.nextCursor as string | undefined;
      } while (cursor);
      expect(seen).toHaveLength(6);
      expect(seen.filter((s) => !s.startsWith('Echo')).map((s) => s.split(' ').at(-1))).toEqual([
        'three',
        'two',
        'one',
      ]);
    });

    it('needs q of 2 to 200 characters', async () => {
      for (const query of ['', '?q=a', `?q=${'a'.repeat(201)}`, '?q=ab&limit=51']) {
        const res = await h.http.get(`${API}/search/messages${query}`).set('Authorization', owner.auth);
        expectProblem(res, 400, 'validation_failed', [query.includes('limit') ? 'limit' : 'q']);
      }
      expect(await search('ab', owner.auth)).toEqual([]);
    });
  });
});
