import { API, PROBLEM_JSON } from './support/api';
import { Harness, signUp, startHarness, type TestUser, waitFor } from './support/harness';

/*
 * Two promises of the README, tested where they are kept: the audit log is append-only in the database itself, and a
 * synchronous send that stops waiting (API_SYNC_TURN_TIMEOUT_MS) leaves its turn running to a stored answer.
 */
describe('durability promises: an append-only audit log, and a turn outliving its waiting request', () => {
  let h: Harness;
  let ada: TestUser;

  beforeAll(async () => {
    h = await startHarness('promises', { env: { API_SYNC_TURN_TIMEOUT_MS: '1000' } });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => h?.close());

  it('refuses UPDATE and DELETE on audit_log in MySQL itself (triggers), whoever asks', async () => {
    const before = await h.db.query<{ id: string; action: string }[]>('SELECT id, action FROM audit_log ORDER BY id');
    expect(before.length).toBeGreaterThan(0); // registering and signing in were audited
    await expect(h.db.query("UPDATE audit_log SET action = 'auth.nothing_happened'")).rejects.toThrow(
      /audit_log is append-only/,
    );
    await expect(h.db.query('DELETE FROM audit_log WHERE id = ?', [before[0]!.id])).rejects.toThrow(
      /audit_log is append-only/,
    );
    expect(await h.db.query('SELECT id, action FROM audit_log ORDER BY id')).toEqual(before);
  });

  it('answers 504 turn_timeout naming the turn when the answer takes longer, and the turn is stored once anyway', async () => {
    const conversation = await h.http.post(`${API}/conversations`).set('Authorization', ada.auth).send({ title: 't' });
    h.llm!.firstTokenDelayMs = 2500;
    try {
      const res = await h.http
        .post(`${API}/conversations/${conversation.body.id}/messages`)
        .set('Authorization', ada.auth)
        .send({ content: 'take your time' });
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect([res.status, res.body.code]).toEqual([504, 'turn_timeout']);
      expect(res.body.turnUrl).toBe(`/api/v1/turns/${res.body.turnId}`);
      const turn = await waitFor(async () => {
        const got = await h.http.get(`${API}/turns/${res.body.turnId}`).set('Authorization', ada.auth);
        return got.body.status === 'completed' ? got.body : undefined;
      }, 30_000);
      expect(turn.status).toBe('completed');
      const messages = await h.db.query<{ role: string; content: string }[]>(
        'SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
        [conversation.body.id],
      );
      expect(messages.map((m) => `${m.role}: ${m.content}`)).toEqual([
        'user: take your time',
        'assistant: Echo: take your time',
      ]);
    } finally {
      h.llm!.firstTokenDelayMs = 0;
    }
  });
});
