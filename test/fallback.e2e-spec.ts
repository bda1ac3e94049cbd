import type { Response } from 'supertest';
import { FakeLlm, startFakeLlm } from './fakes/fake-llm.server';
import { auditRows, count, Harness, signUp, startHarness } from './support/harness';

/*
 * Two OpenAI-compatible providers: `primary` (priority 1, serves primary-model, the default) answers 500 to
 * everything; `backup` (priority 2, serves backup-model) works. Turns fall back to the backup and say so; once the
 * primary's breaker (2 failures, shared through Redis) is open, the primary is not called at all.
 */
describe('LLM fallback across providers (real MySQL, Redis, Temporal; two fake LLMs)', () => {
  let primary: FakeLlm;
  let backup: FakeLlm;
  let h: Harness;
  let auth: string;

  const chatCalls = (llm: FakeLlm): number =>
    llm.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/chat/completions')).length;

  beforeAll(async () => {
    primary = await startFakeLlm({ apiKey: 'sk-primary-key' });
    backup = await startFakeLlm();
    primary.failNext(10_000, 500);
    h = await startHarness('fallback', {
      fakeLlm: false,
      env: {
        LLM_PROVIDERS: JSON.stringify([
          { name: 'backup', baseUrl: backup.url, models: ['backup-model'], priority: 2 },
          { name: 'primary', baseUrl: primary.url, apiKey: 'sk-primary-key', models: ['primary-model'], priority: 1 },
        ]),
        LLM_MODEL: 'primary-model',
        LLM_BREAKER_FAILURES: '2',
        LLM_BREAKER_COOLDOWN_SECONDS: '600',
      },
    });
    ({ auth } = await signUp(h, 'ada'));
  });
  afterAll(async () => {
    await h?.close();
    await primary?.close();
    await backup?.close();
  });

  async function send(body: Record<string, unknown>): Promise<Response> {
    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    expect(conversation.status).toBe(201);
    return h.http
      .post(`/api/v1/conversations/${conversation.body.id as string}/messages`)
      .set('Authorization', auth)
      .send(body);
  }

  it('answers with the backup when the primary fails with 500s, and records which model answered', async () => {
    const sent = await send({ content: 'Is anyone there?' });

    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage).toMatchObject({ content: 'Echo: Is anyone there?', model: 'backup-model' });
    // The primary was asked for its own model and retried once before the turn fell back.
    expect(chatCalls(primary)).toBe(2);
    expect(primary.requests[0]?.body).toMatchObject({ model: 'primary-model' });
    expect(backup.requests.find((r) => r.path.startsWith('/v1/chat/completions'))?.body).toMatchObject({
      model: 'backup-model',
    });

    // Persisted: the model and the token usage on the message, the provider in the audit row.
    const [row] = await h.db.query('SELECT model, `usage` FROM messages WHERE id = ?', [sent.body.assistantMessage.id]);
    const usage = typeof row.usage === 'string' ? JSON.parse(row.usage) : row.usage;
    expect(row.model).toBe('backup-model');
    expect(usage).toEqual({ promptTokens: expect.any(Number), completionTokens: 4 });
    expect(usage.promptTokens).toBeGreaterThan(0);
    expect(await auditRows(h, 'turn.completed', sent.body.turnId)).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ model: 'backup-model', provider: 'backup' }) }),
    ]);
  });

  it('stops calling the primary once its breaker is open', async () => {
    const before = chatCalls(primary);
    const backupBefore = chatCalls(backup);

    for (const content of ['second', 'third']) {
      const sent = await send({ content });
      expect(sent.status).toBe(200);
      expect(sent.body.assistantMessage).toMatchObject({ content: `Echo: ${content}`, model: 'backup-model' });
    }

    expect(chatCalls(primary)).toBe(before);
    expect(chatCalls(backup)).toBe(backupBefore + 2);
  });

  it('sends a message to the model it names, and refuses a model nobody serves before writing anything', async () => {
    const before = chatCalls(primary);
    const named = await send({ content: 'straight to the backup', model: 'backup-model' });
    expect(named.status).toBe(200);
    expect(named.body.assistantMessage.model).toBe('backup-model');
    expect(chatCalls(primary)).toBe(before);

    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const messages = await count(h, 'messages');
    const turns = await count(h, 'turns');
    const refused = await h.http
      .post(`/api/v1/conversations/${conversation.body.id as string}/messages`)
      .set('Authorization', auth)
      .send({ content: 'hello', model: 'gpt-9' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'model' }] });
    expect(await count(h, 'messages')).toBe(messages);
    expect(await count(h, 'turns')).toBe(turns);
  });
});
