import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpOAuthClient, McpSignInRequiredError } from './mcp-oauth';
import type { ReleaseLock } from './refresh-lock';
import { memoryOAuthStore, type MemoryOAuthStore } from './testing/memory-oauth-store';

const server = { id: '6f1c2c1e-5b0a-4c47-9a37-2f0b1f0a0c01', name: 'cal' };
const client = { client_id: 'client-1', redirect_uris: ['https://chat.example/mcp-servers/oauth/callback'] };
const signInRequired = () => new McpSignInRequiredError(server);
const TOKEN_URL = 'https://as.example/token';

/** One lock in memory, as Redis keeps it for every worker: `hold` waits until whoever has it releases. */
function memoryLock() {
  let queue: Promise<void> = Promise.resolve();
  const lock = {
    held: false,
    hold: (): Promise<ReleaseLock> => {
      const previous = queue;
      let release!: () => void;
      queue = new Promise((resolve) => (release = resolve));
      return previous.then(() => {
        lock.held = true;
        return () => {
          lock.held = false;
          release();
          return Promise.resolve();
        };
      });
    },
  };
  return lock;
}

/** A token endpoint that rotates refresh tokens: each one works once. */
function tokenEndpoint(first: string) {
  const endpoint = {
    valid: new Set([first]),
    refreshes: 0,
    issued: 0,
    fetch: (async (_input, init) => {
      const params = init?.body as URLSearchParams;
      if (params?.get('grant_type') !== 'refresh_token') return new Response('{}', { status: 200 });
      endpoint.refreshes += 1;
      const presented = params.get('refresh_token') ?? '';
      if (!endpoint.valid.delete(presented)) return Response.json({ error: 'invalid_grant' }, { status: 400 });
      endpoint.issued += 1;
      const next = `rt-${endpoint.issued + 1}`;
      endpoint.valid.add(next);
      return Response.json({ access_token: `at-${endpoint.issued + 1}`, token_type: 'Bearer', refresh_token: next });
    }) as FetchLike,
  };
  return endpoint;
}

const refreshRequest = (refreshToken: string) => ({
  method: 'POST',
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'client-1' }),
});

/** What the SDK's `auth()` does on a refused access token: read the tokens, refresh with them, save the answer. */
async function refreshAsTheSdkDoes(provider: McpOAuthClient, fetch: FetchLike) {
  const lent = await provider.tokens();
  const response = await fetch(TOKEN_URL, refreshRequest(lent!.refresh_token!));
  if (!response.ok) throw new Error(`refresh refused: ${response.status}`);
  const tokens = (await response.json()) as { access_token: string; token_type: string; refresh_token?: string };
  await provider.saveTokens({ refresh_token: lent!.refresh_token, ...tokens });
}

function worker(store: MemoryOAuthStore, lock: ReturnType<typeof memoryLock>) {
  return new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, refreshLock: lock.hold, signInRequired });
}

describe('McpOAuthClient.fetchWithRefreshLock', () => {
  const startingTokens = { access_token: 'at-1', token_type: 'Bearer', refresh_token: 'rt-1' };

  /** One worker's provider over a row holding rt-1, whose token endpoint rotates `endpointToken`. */
  function oneWorker(endpointToken: string) {
    const store = memoryOAuthStore({ client, tokens: startingTokens });
    const lock = memoryLock();
    const endpoint = tokenEndpoint(endpointToken);
    const provider = worker(store, lock);
    return { store, lock, endpoint, provider, fetch: provider.fetchWithRefreshLock(endpoint.fetch) };
  }

  it('two workers refused at the same moment make one refresh request, and both end with the same new tokens', async () => {
    const store = memoryOAuthStore({ client, tokens: startingTokens });
    const lock = memoryLock();
    const endpoint = tokenEndpoint('rt-1');
    const [a, b] = [worker(store, lock), worker(store, lock)];
    await Promise.all([
      refreshAsTheSdkDoes(a, a.fetchWithRefreshLock(endpoint.fetch)),
      refreshAsTheSdkDoes(b, b.fetchWithRefreshLock(endpoint.fetch)),
    ]);
    expect(endpoint.refreshes).toBe(1);
    expect(store.record.tokens).toEqual({ access_token: 'at-2', token_type: 'Bearer', refresh_token: 'rt-2' });
    expect(await a.tokens()).toEqual(await b.tokens());
    expect(lock.held).toBe(false);
    // The rotated token still works at the server: nothing was spent twice.
    expect(endpoint.valid).toEqual(new Set(['rt-2']));
  });

  it('without the lock the same two refreshes spend one refresh token twice, and the second is refused', async () => {
    const store = memoryOAuthStore({ client, tokens: startingTokens });
    const endpoint = tokenEndpoint('rt-1');
    const [a, b] = [
      new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired }),
      new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired }),
    ];
    expect(a.fetchWithRefreshLock(endpoint.fetch)).toBe(endpoint.fetch);
    const outcomes = await Promise.allSettled([
      refreshAsTheSdkDoes(a, endpoint.fetch),
      refreshAsTheSdkDoes(b, endpoint.fetch),
    ]);
    expect(endpoint.refreshes).toBe(2);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('holds the lock from a refresh that went through until its tokens are saved', async () => {
    const { store, lock, provider, fetch } = oneWorker('rt-1');
    await provider.tokens();
    const response = await fetch(TOKEN_URL, refreshRequest('rt-1'));
    expect(response.status).toBe(200);
    expect(lock.held).toBe(true);
    await provider.saveTokens((await response.json()) as typeof startingTokens);
    expect(lock.held).toBe(false);
    expect(store.record.tokens?.refresh_token).toBe('rt-2');
  });

  it('gives the lock back at once when the refresh is refused, and sends no request while the row has newer tokens', async () => {
    const { store, lock, endpoint, fetch } = oneWorker('rt-other');
    expect((await fetch(TOKEN_URL, refreshRequest('rt-1'))).status).toBe(400);
    expect(lock.held).toBe(false);

    // Another process saved rt-9 while this one waited with rt-1: its tokens are the answer, nothing is sent.
    store.record = { client, tokens: { access_token: 'at-9', token_type: 'Bearer', refresh_token: 'rt-9' } };
    const answered = await fetch(TOKEN_URL, refreshRequest('rt-1'));
    expect(await answered.json()).toEqual(store.record.tokens);
    expect(endpoint.refreshes).toBe(1);
    expect(lock.held).toBe(false);
  });

  it('lets every other request through without the lock', async () => {
    const lock = memoryLock();
    const release = await lock.hold(); // held elsewhere: a request that waited for it would never end
    const provider = worker(memoryOAuthStore({ client, tokens: startingTokens }), lock);
    const endpoint = tokenEndpoint('rt-1');
    const fetch = provider.fetchWithRefreshLock(endpoint.fetch);
    const code = new URLSearchParams({ grant_type: 'authorization_code', code: 'c' });
    expect((await fetch(TOKEN_URL, { method: 'POST', body: code })).status).toBe(200);
    expect((await fetch('https://mcp.example/mcp', { method: 'GET' })).status).toBe(200);
    await release();
  });
});
