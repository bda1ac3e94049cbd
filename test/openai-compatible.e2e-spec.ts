import OpenAI from 'openai';
import { API } from './support/api';
import { count, Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';

/*
 * The OpenAI-compatible API with the real `openai` SDK as the client, against the real stack (MySQL, Redis,
 * Temporal; the fake LLM behind the worker): each completion is a durable chat turn, stored in a conversation.
 */
describe('OpenAI-compatible API: /v1/models and /v1/chat/completions through the openai SDK', () => {
  let h: Harness;
  let ada: TestUser;
  let bob: TestUser;
  let client: OpenAI;
  let token: string;

  const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${h.baseUrl}/v1`, maxRetries: 0, timeout: 60_000 });
  const storedMessages = async (conversationId: string) =>
    (await h.db.query<{ role: string; content: string }[]>(
      'SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
      [conversationId],
    )) as { role: string; content: string }[];

  beforeAll(async () => {
    h = await startHarness('openaicompat', { env: { RATE_LIMIT_CHAT_MAX: '1000' } });
    ada = await signUp(h, 'ada');
    bob = await signUp(h, 'bob');
    const created = await h.http
      .post(`${API}/tokens`)
      .set('Authorization', ada.auth)
      .send({ name: 'openai sdk', scopes: ['chat:read', 'chat:write'] });
    expect(created.status).toBe(201);
    token = created.body.token;
    client = sdk(token);
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.llm!.reply = (messages) => `Echo: ${messages.at(-1)?.content} (seen ${messages.length})`;
  });

  it('lists the served models in OpenAI’s shape', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('fake-model');
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: expect.any(String) });
  });

  it('answers a completion with a durable turn: the history becomes a conversation, the answer is stored', async () => {
    const completion = await client.chat.completions.create({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'You answer briefly.' },
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris.' },
        { role: 'user', content: [{ type: 'text', text: 'And of Italy?' }] },
      ],
      temperature: 0.2,
    });
    const extension = (completion as unknown as { gigachat: { conversationId: string; turnId: string } }).gigachat;
    expect(completion).toMatchObject({
      id: `chatcmpl-${extension.turnId}`,
      object: 'chat.completion',
      model: 'fake-model',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    // The model saw the system prompt and the three earlier messages, then the new one.
    expect(completion.choices[0]!.message.content).toBe('Echo: And of Italy? (seen 4)');
    expect(h.llm!.requests.at(-1)?.body).toMatchObject({
      messages: expect.arrayContaining([
        expect.objectContaining({ role: 'system', content: expect.stringContaining('You answer briefly.') }),
      ]),
    });
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);

    expect(await storedMessages(extension.conversationId)).toEqual([
      { role: 'user', content: 'What is the capital of France?' },
      { role: 'assistant', content: 'Paris.' },
      { role: 'user', content: 'And of Italy?' },
      { role: 'assistant', content: 'Echo: And of Italy? (seen 4)' },
    ]);
    const conversation = await h.http
      .get(`${API}/conversations/${extension.conversationId}`)
      .set('Authorization', ada.auth);
    expect(conversation.body).toMatchObject({
      title: 'What is the capital of France?',
      systemPrompt: 'You answer briefly.',
    });
  });

  it('streams chunks whose deltas are exactly the stored answer, with the usage when asked, then [DONE]', async () => {
    h.llm!.reply = () => 'A streamed answer, in several tokens, that arrives piece by piece.';
    const stream = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'Stream to me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let conversationId = '';
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finishes.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
      const extension = (chunk as unknown as { gigachat?: { conversationId: string } }).gigachat;
      if (extension) conversationId = extension.conversationId;
    }
    expect(text).toBe('A streamed answer, in several tokens, that arrives piece by piece.');
    expect(finishes.filter((f) => f !== null)).toEqual(['stop']);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect((await storedMessages(conversationId)).at(-1)).toEqual({ role: 'assistant', content: text });
  });

  it('completes and stores the answer when the client goes away mid-stream', async () => {
    h.llm!.tokenDelayMs = 40;
    h.llm!.reply = () => 'one two three four five six seven eight nine ten eleven twelve';
    const abort = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: 'fake-model', messages: [{ role: 'user', content: 'A slow answer, please' }], stream: true },
        { signal: abort.signal },
      )
      .withResponse();
    const turnId = response.headers.get('location')?.split('/').at(-1);
    expect(turnId).toMatch(/^[0-9a-f-]{36}$/);
    let seen = '';
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta.content ?? '';
      if (seen.includes('two')) {
        abort.abort(); // the connection closes: the API stops following, the turn goes on
        break;
      }
    }
    expect(seen).not.toContain('twelve');
    const turn = await waitFor(async () => {
      const rows: { status: string; assistant_message_id: string }[] = await h.db.query(
        'SELECT status, assistant_message_id FROM turns WHERE id = ?',
        [turnId],
      );
      return rows[0]?.status === 'completed' ? rows[0] : undefined;
    }, 30_000);
    const [message] = await h.db.query('SELECT content FROM messages WHERE id = ?', [turn.assistant_message_id]);
    expect(message.content).toBe('one two three four five six seven eight nine ten eleven twelve');
    h.llm!.tokenDelayMs = 0;
  });

  it('continues a conversation of yours with gigachat.conversationId; another user’s is not found', async () => {
    const first = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'One' }],
    });
    const { conversationId } = (first as unknown as { gigachat: { conversationId: string } }).gigachat;
    const body = {
      model: 'fake-model',
      messages: [{ role: 'user' as const, content: 'Two' }],
      gigachat: { conversationId },
    };
    const second = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(second.choices[0]!.message.content).toBe('Echo: Two (seen 3)'); // One, its answer, Two
    expect((await storedMessages(conversationId)).map((m) => m.content)).toEqual([
      'One',
      'Echo: One (seen 1)',
      'Two',
      'Echo: Two (seen 3)',
    ]);

    const bobToken = await h.http
      .post(`${API}/tokens`)
      .set('Authorization', bob.auth)
      .send({ name: 'bob sdk', scopes: ['chat:write'] });
    const before = await count(h, 'messages');
    const refused = await sdk(bobToken.body.token)
      .chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refused as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/conversation was not found/);
    expect(await count(h, 'messages')).toBe(before);
  });

  it("lets the model call GigaChat's tools (gigachat.tools), run durably, streaming included", async () => {
    const body = {
      model: 'fake-model',
      messages: [{ role: 'user' as const, content: 'Compute <<tool calculator {"expression":"3*3"}>>' }],
      gigachat: { tools: ['calculator'] },
    };
    const completion = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(completion.choices[0]!.message.content).toBe('Tools said: 3*3 = 9');
    const stream = await client.chat.completions.create({
      ...body,
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe('Tools said: 3*3 = 9');
    const { conversationId } = (completion as unknown as { gigachat: { conversationId: string } }).gigachat;
    const [stored] = await h.db.query<{ tool_calls: unknown }[]>(
      "SELECT tool_calls FROM messages WHERE conversation_id = ? AND role = 'assistant'",
      [conversationId],
    );
    const calls = typeof stored!.tool_calls === 'string' ? JSON.parse(stored!.tool_calls) : stored!.tool_calls;
    expect(calls).toEqual([expect.objectContaining({ name: 'calculator', outcome: 'completed' })]);
  });

  it('maps a retried request with the same Idempotency-Key to the same conversation and turn', async () => {
    const ask = () =>
      client.chat.completions.create(
        { model: 'fake-model', messages: [{ role: 'user', content: 'Only once, please' }] },
        { headers: { 'Idempotency-Key': `openai-retry-${Date.now()}` } },
      );
    const key = `openai-retry-${Date.now()}`;
    const once = () =>
      client.chat.completions.create(
        { model: 'fake-model', messages: [{ role: 'user', content: 'Only once, please' }] },
        { headers: { 'Idempotency-Key': key } },
      );
    const [a, b] = [await once(), await once()];
    expect(b.id).toBe(a.id);
    const { conversationId } = (a as unknown as { gigachat: { conversationId: string } }).gigachat;
    expect(await storedMessages(conversationId)).toHaveLength(2);
    expect((await ask()).id).not.toBe(a.id);
  });

  it('refuses bad requests with OpenAI’s error object inside problem+json, and writes nothing', async () => {
    const before = { conversations: await count(h, 'conversations'), messages: await count(h, 'messages') };
    const cases: [object, RegExp][] = [
      [{ model: 'fake-model', messages: [] }, /messages must hold at least one message/],
      [
        { model: 'fake-model', messages: [{ role: 'assistant', content: 'Hi' }] },
        /last message must be a non-empty user message/,
      ],
      [{ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }, /model is not served/],
      [
        { model: 'fake-model', messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] },
        /tool messages are not supported/,
      ],
      [
        {
          model: 'fake-model',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
        },
        /text parts/,
      ],
      [{ model: 'fake-model', messages: [{ role: 'user', content: 'Hi' }], n: 2 }, /n must be 1/],
      [
        { model: 'fake-model', messages: [{ role: 'user', content: 'Hi' }], gigachat: { conversationId: 'nope' } },
        /conversationId must be a UUID/,
      ],
    ];
    for (const [body, message] of cases) {
      const error = await client.chat.completions
        .create(body as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect([JSON.stringify(body), (error as Error).message]).toEqual([
        JSON.stringify(body),
        expect.stringMatching(message),
      ]);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('validation_failed');
    }
    const raw = await h.http
      .post('/v1/chat/completions')
      .set('Authorization', `Bearer ${token}`)
      .send({ model: 'fake-model', messages: [] });
    expect(raw.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(raw.body).toMatchObject({ status: 400, code: 'validation_failed', error: { type: 'validation_failed' } });

    const unauthenticated = await sdk('gc_not_a_real_token')
      .models.list()
      .catch((caught: unknown) => caught);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);
    expect({ conversations: await count(h, 'conversations'), messages: await count(h, 'messages') }).toEqual(before);
  });
});
