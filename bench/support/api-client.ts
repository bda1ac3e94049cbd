import { randomBytes } from 'node:crypto';
/** A failed call to the API: the status and the start of the problem+json body. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

/**
 * A minimal JSON client over Node's built-in fetch (undici). Its global agent keeps connections alive, so a lane
 * that sends one request after another reuses its connection.
 */
export class ApiClient {
  authorization: string | undefined;
  /** The refresh token of the last sign-in through `signUpBenchUser` (the web bench restores a browser session). */
  refreshToken: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly signal: AbortSignal,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, expected = 200): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // Checked before each call rather than passed to fetch: undici would add a listener per request to the one
    // shared signal (thousands in a run). An interrupted run waits for the requests in flight.
    this.signal.throwIfAborted();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== expected) throw new ApiCallError(res.status, text, `${method} ${path}`);
    return JSON.parse(text) as T;
  }
}

/** Registers a fresh bench user through the API, signs `api` in as them, and returns their id. */
export async function signUpBenchUser(api: ApiClient): Promise<string> {
  const email = `bench.${randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse bench battery staple';
  const registered = await api.call<{ user: { id: string } }>(
    'POST',
    '/api/v1/auth/register',
    { email, password, displayName: 'Bench' },
    201,
  );
  const login = await api.call<{ accessToken: string; refreshToken: string }>('POST', '/api/v1/auth/login', {
    email,
    password,
  });
  api.authorization = `Bearer ${login.accessToken}`;
  api.refreshToken = login.refreshToken;
  return registered.user.id;
}
