import { Harness, signUp, startHarness } from './support/harness';

describe('GET /api/v1/models', () => {
  describe('with several providers configured', () => {
    let h: Harness;
    let auth: string;

    beforeAll(async () => {
      h = await startHarness('models', {
        fakeLlm: false,
        worker: false,
        env: {
          LLM_PROVIDERS: JSON.stringify([
            { name: 'local', baseUrl: 'http://127.0.0.1:9/v1', models: ['llama3', 'gpt-4o-mini'], priority: 5 },
            {
              name: 'openai',
              baseUrl: 'https://llm.example/v1',
              apiKey: 'sk-never-shown',
              models: ['gpt-4o', 'gpt-4o-mini'],
              priority: 1,
              contextTokens: 128000,
            },
          ]),
          LLM_MODEL: 'gpt-4o-mini',
        },
      });
      ({ auth } = await signUp(h, 'ada'));
    });
    afterAll(async () => h?.close());

    it('lists each model once, under the provider tried first, the default first; no URLs or keys', async () => {
      const res = await h.http.get('/api/v1/models').set('Authorization', auth);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        items: [
          { id: 'gpt-4o-mini', provider: 'openai', default: true },
          { id: 'gpt-4o', provider: 'openai', default: false },
          { id: 'llama3', provider: 'local', default: false },
        ],
      });
      expect(res.text).not.toMatch(/sk-never-shown|llm\.example|127\.0\.0\.1/);
    });

    it('is open to API tokens with chat:read, not to tokens without it, nor to anonymous callers', async () => {
      const token = async (scopes: string[]): Promise<string> => {
        const res = await h.http.post('/api/v1/tokens').set('Authorization', auth).send({ name: 'bot', scopes });
        expect(res.status).toBe(201);
        return `Bearer ${res.body.token as string}`;
      };
      const reader = await h.http.get('/api/v1/models').set('Authorization', await token(['chat:read']));
      expect(reader.status).toBe(200);
      expect(reader.body.items).toHaveLength(3);

      const filesOnly = await h.http.get('/api/v1/models').set('Authorization', await token(['files:read']));
      expect(filesOnly.status).toBe(403);
      expect(filesOnly.body.code).toBe('forbidden');

      const anonymous = await h.http.get('/api/v1/models');
      expect(anonymous.status).toBe(401);
    });

    it('refuses to send a message with a model that is not listed', async () => {
      const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
      const res = await h.http
        .post(`/api/v1/conversations/${conversation.body.id as string}/messages`)
        .set('Authorization', auth)
        .set('Prefer', 'respond-async')
        .send({ content: 'hi', model: 'gpt-3.5-turbo' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'model' }] });
    });
  });

  describe('with no provider configured', () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness('models_offline', { fakeLlm: false, worker: false });
    });
    afterAll(async () => h?.close());

    it('lists the offline responder as the only model', async () => {
      const { auth } = await signUp(h, 'bob');
      const res = await h.http.get('/api/v1/models').set('Authorization', auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [{ id: 'offline', provider: 'offline', default: true }] });
    });
  });
});
