import { API, PROBLEM_JSON } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';
import { TcpProxy } from './support/tcp-proxy';
import { storedMessages } from './support/turns';
import { uniqueSuffix } from './support/test-env';

/*
 * MySQL going away, for real: the API and the worker reach the (shared, real) MySQL through a TCP proxy that the
 * test cuts — open connections reset, new ones refused, as when the server is down — and restores.
 */
describe('MySQL outage: 503 with Retry-After while it is gone, nothing half written, turns in flight finish', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let ada: TestUser;

  beforeAll(async () => {
    const server = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    proxy = await new TcpProxy(server.hostname, Number(server.port || 3306)).start();
    server.host = `127.0.0.1:${proxy.port}`;
    server.pathname = `/gc_mysqloutage_${uniqueSuffix()}`;
    h = await startHarness('mysqloutage', { env: { DATABASE_URL: server.toString() } });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => {
    await proxy?.restore();
    await h?.close();
    await proxy?.close();
  });
  afterEach(() => proxy.restore());

  const newConversation = async () =>
    (await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({ title: 'outage' })).body
      .id as string;
  const send = (conversationId: string, content: string, prefer?: string) => {
    const req = h.http.post(`${API}/conversations/${conversationId}/messages`).set('Authorization', ada.auth);
    return (prefer ? req.set('Prefer', prefer) : req).send({ content });
  };
  const messagesOf = (conversationId: string) => storedMessages(h, conversationId);

  it('answers a send and a read with 503 service_unavailable and Retry-After, writes nothing, and works once back', async () => {
    const conversationId = await newConversation();
    await proxy.cut();
    for (const res of [
      await send(conversationId, 'sent while the database is down'),
      await h.http.get(`${API}/conversations`).set('Authorization', ada.auth),
    ]) {
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect([res.status, res.body.code, res.headers['retry-after']]).toEqual([503, 'service_unavailable', '5']);
    }
    await proxy.restore();
    expect(await messagesOf(conversationId)).toEqual([]);

    const answered = await waitFor(async () => {
      const res = await send(conversationId, 'sent once it is back');
      return res.status === 200 ? res : undefined;
    }, 20_000);
    expect(answered.body.assistantMessage.content).toBe('Echo: sent once it is back');
    expect(await messagesOf(conversationId)).toEqual([
      'user: sent once it is back',
      'assistant: Echo: sent once it is back',
    ]);
  });

  it('finishes a turn that was generating when MySQL went away, once, after it is back', async () => {
    const conversationId = await newConversation();
    h.llm!.firstTokenDelayMs = 1500;
    try {
      const accepted = await send(conversationId, 'answer me across the outage', 'respond-async');
      expect(accepted.status).toBe(202);
      await waitFor(async () => (h.llm!.requests.length > 0 ? true : undefined), 10_000);
      await proxy.cut(); // while the model is still thinking: persisting the answer will find MySQL gone
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await proxy.restore();
      const turn = await waitFor(async () => {
        const res = await h.http.get(`${API}/turns/${accepted.body.turnId}`).set('Authorization', ada.auth);
        return res.status === 200 && res.body.status === 'completed' ? res.body : undefined;
      }, 60_000);
      expect(turn.status).toBe('completed');
      expect(await messagesOf(conversationId)).toEqual([
        'user: answer me across the outage',
        'assistant: Echo: answer me across the outage',
      ]);
    } finally {
      h.llm!.firstTokenDelayMs = 0;
    }
  });
});
