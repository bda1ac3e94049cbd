import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Harness, startHarness, waitFor } from './support/harness';

/*
 * The logs of a whole turn and a whole file ingestion, as an operator gets them: every line written while serving a
 * request carries its id, every line an activity writes carries its workflow, activity and turn or file; and none
 * carries what a user wrote or a credential — planted values are searched for in every line.
 */

type Line = Record<string, unknown>;

describe('log lines: request-scoped context, and no secrets or user text', () => {
  let h: Harness;
  const lines: Line[] = [];
  const planted = {
    password: `Planted-Password-${randomBytes(6).toString('hex')}`,
    message: `Planted question ${randomBytes(6).toString('hex')}`,
    fileText: `Planted file sentence ${randomBytes(6).toString('hex')}`,
  };
  const tokens: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text) as Line);
        done();
      },
    });
    h = await startHarness('logcontext', { logDestination: sink, env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => h?.close());

  it('a turn and an ingestion: context on every line, no planted value anywhere', async () => {
    const email = `planted.${randomBytes(4).toString('hex')}@example.com`;
    expect(
      (await h.http.post('/api/v1/auth/register').send({ email, password: planted.password, displayName: 'P' })).status,
    ).toBe(201);
    const login = await h.http.post('/api/v1/auth/login').send({ email, password: planted.password });
    tokens.push(login.body.accessToken, login.body.refreshToken);
    const auth = `Bearer ${login.body.accessToken}`;

    const conversation = await h.http.post('/api/v1/conversations').set('Authorization', auth).send({});
    const sendId = `logctx-send-${randomBytes(4).toString('hex')}`;
    const sent = await h.http
      .post(`/api/v1/conversations/${conversation.body.id}/messages`)
      .set('Authorization', auth)
      .set('X-Request-Id', sendId)
      .send({ content: planted.message });
    expect(sent.status).toBe(200);
    expect(sent.body.assistantMessage.content).toBe(`Echo: ${planted.message}`);
    const turnId = sent.body.turnId as string;

    const uploadId = `logctx-upload-${randomBytes(4).toString('hex')}`;
    const uploaded = await h.http
      .post('/api/v1/files')
      .set('Authorization', auth)
      .set('X-Request-Id', uploadId)
      .attach('file', Buffer.from(`# Notes\n\n${planted.fileText}.\n`), {
        filename: 'notes.md',
        contentType: 'text/markdown',
      });
    expect(uploaded.status).toBe(202);
    const fileId = uploaded.body.id as string;
    await waitFor(async () => {
      const file = await h.http.get(`/api/v1/files/${fileId}`).set('Authorization', auth);
      return file.body.status === 'ready' ? true : undefined;
    }, 60_000);
    // The turn's last activity (its audit row) has logged by the time its row is there.
    await waitFor(async () => (lines.some((line) => line.turnId === turnId && line.activity) ? true : undefined));

    // Requests: the access line and every other line written while serving carry the request id (and, once
    // authenticated, the user).
    const ofSend = lines.filter((line) => line.requestId === sendId);
    expect(ofSend.some((line) => line.status === 200)).toBe(true);
    expect(ofSend.find((line) => line.status === 200)).toMatchObject({ userId: expect.any(String) });
    // The request's id follows the work into the worker: the ingestion's lines carry the upload's.
    const ofUpload = lines.filter((line) => line.requestId === uploadId);
    expect(ofUpload.some((line) => line.activity !== undefined)).toBe(true);

    // Activities: workflow, activity type, attempt and the turn or file, on every line they write.
    // (The SDK's own lines, `sdkComponent`, carry the workflow id but are not ours to shape.)
    const ours = lines.filter((line) => line.sdkComponent === undefined);
    const turnLines = ours.filter((line) => line.workflowId === `turn:${turnId}`);
    expect(turnLines.length).toBeGreaterThan(0);
    for (const line of turnLines) {
      expect(line).toMatchObject({ turnId, activity: expect.any(String), attempt: expect.any(Number) });
    }
    const fileLines = ours.filter((line) => line.workflowId === `ingest:${fileId}`);
    expect(fileLines.length).toBeGreaterThan(0);
    for (const line of fileLines) expect(line).toMatchObject({ fileId, activity: expect.any(String) });

    // Nothing a user wrote, and no credential, in any line.
    const all = lines.map((line) => JSON.stringify(line));
    for (const value of [...Object.values(planted), ...tokens]) {
      expect([value.slice(0, 12), all.filter((line) => line.includes(value))]).toEqual([value.slice(0, 12), []]);
    }
    expect(all.length).toBeGreaterThan(20); // it looked at a real log, not an empty one
  });
});
