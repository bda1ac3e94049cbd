/**
 * A session ended on one API instance is refused by every other one at once: two API processes share MySQL and Redis
 * (the harness's, in this process, and a separate OS process), and the very next request with a revoked session's
 * token on the other instance is 401 — after a logout, a password change, an admin disabling the account and a spent
 * refresh token presented again.
 */
import type { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { API } from './support/api';
import { Harness, signUp, startHarness, type TestUser } from './support/harness';
import { requireBuild, spawnApi, stopProcess } from './support/processes';

interface Session {
  auth: string;
  refreshToken: string;
}

describe('session revocation seen at once by a second API process', () => {
  let h: Harness;
  let second: ChildProcess | undefined;
  /** API #1: the harness's instance, in this process. */
  let one: ReturnType<typeof request>;
  /** API #2: its own OS process on the same database, Redis and key prefix. */
  let two: ReturnType<typeof request>;
  let admin: TestUser;

  beforeAll(async () => {
    requireBuild();
    // This file logs in many times from one address: lift the per-address auth limit (another file's topic).
    h = await startHarness('session_revocation', {
      worker: false,
      fakeLlm: false,
      env: { RATE_LIMIT_AUTH_MAX: '1000' },
    });
    const api = await spawnApi(h);
    second = api.child;
    one = h.http;
    two = request(api.baseUrl);
    admin = await signUp(h, 'boss'); // the first account of the installation is its admin
  });
  afterAll(async () => {
    if (second) await stopProcess(second, 'SIGKILL');
    await h?.close();
  });

  async function login(api: ReturnType<typeof request>, user: TestUser): Promise<Session> {
    const res = await api.post(`${API}/auth/login`).send({ email: user.email, password: user.password });
    expect(res.status).toBe(200);
    return { auth: `Bearer ${res.body.accessToken as string}`, refreshToken: res.body.refreshToken as string };
  }
  const me = (api: ReturnType<typeof request>, auth: string) => api.get(`${API}/auth/me`).set('Authorization', auth);
  /** `GET /auth/me`'s status and problem code on `api`: [200, undefined] while the session lives. */
  const meOn = async (api: ReturnType<typeof request>, auth: string) => {
    const res = await me(api, auth);
    return [res.status, res.body.code as string | undefined];
  };

  it('logout on #1: the next request on #2 is 401, and its refresh token is refused there too', async () => {
    const user = await signUp(h, 'ada');
    const session = await login(one, user);
    expect(await meOn(two, session.auth)).toEqual([200, undefined]);

    expect((await one.post(`${API}/auth/logout`).set('Authorization', session.auth)).status).toBe(204);
    expect(await meOn(two, session.auth)).toEqual([401, 'unauthorized']);
    const refreshed = await two.post(`${API}/auth/refresh`).send({ refreshToken: session.refreshToken });
    expect(refreshed.status).toBe(401);
    // Only that session ended: the one signUp opened still works on both.
    expect(await meOn(two, user.auth)).toEqual([200, undefined]);
    expect(await meOn(one, user.auth)).toEqual([200, undefined]);
  });

  it('password change on #1: every other session is 401 on #2 at once, the changing one goes on', async () => {
    const user = await signUp(h, 'bob');
    const other = await login(two, user);
    expect(await meOn(two, other.auth)).toEqual([200, undefined]);

    const changed = await one
      .post(`${API}/auth/password`)
      .set('Authorization', user.auth)
      .send({ currentPassword: user.password, newPassword: `${user.password} and then some` });
    expect(changed.status).toBe(204);
    expect(await meOn(two, other.auth)).toEqual([401, 'unauthorized']);
    expect(await meOn(two, user.auth)).toEqual([200, undefined]);
  });

  it('an admin disables the account on #1: its sessions are 401 on #2 at once', async () => {
    const user = await signUp(h, 'cy');
    const session = await login(two, user);
    expect(await meOn(two, session.auth)).toEqual([200, undefined]);

    const disabled = await one
      .patch(`${API}/admin/users/${user.userId}`)
      .set('Authorization', admin.auth)
      .send({ disabled: true });
    expect([disabled.status, disabled.body.disabled]).toEqual([200, true]);
    for (const auth of [session.auth, user.auth]) expect(await meOn(two, auth)).toEqual([401, 'unauthorized']);
  });

  it('a spent refresh token presented again on #2 ends the session: its access token is 401 on #1 at once', async () => {
    const user = await signUp(h, 'di');
    const session = await login(one, user);
    const rotated = await two.post(`${API}/auth/refresh`).send({ refreshToken: session.refreshToken });
    expect(rotated.status).toBe(200);
    const current = `Bearer ${rotated.body.accessToken as string}`;
    expect(await meOn(one, current)).toEqual([200, undefined]);

    // The old refresh token again: someone else holds a copy, so the whole session ends, on every instance.
    const reused = await two.post(`${API}/auth/refresh`).send({ refreshToken: session.refreshToken });
    expect(reused.status).toBe(401);
    expect(await meOn(one, current)).toEqual([401, 'unauthorized']);
    expect(await meOn(one, session.auth)).toEqual([401, 'unauthorized']);
  });
});
