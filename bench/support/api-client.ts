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
