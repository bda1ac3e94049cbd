import { randomBytes } from 'node:crypto';
import { SecretBox } from '../auth/secret-box';
import { ToolError } from '../tools/tool-definition';
import {
  McpOAuthClient,
  McpSignInRequiredError,
  openMcpOAuth,
  openMcpOAuthVerifier,
  sealMcpOAuth,
  sealMcpOAuthVerifier,
} from './mcp-oauth';
import { memoryOAuthStore, type MemoryOAuthStore } from './testing/memory-oauth-store';

const server = { id: '6f1c2c1e-5b0a-4c47-9a37-2f0b1f0a0c01', name: 'cal' };
const tokens = { access_token: 'at-1', token_type: 'Bearer', refresh_token: 'rt-1' };
const client = { client_id: 'client-1', redirect_uris: ['https://chat.example/mcp-servers/oauth/callback'] };

const signInRequired = () => new McpSignInRequiredError(server);

describe('McpOAuthClient', () => {
  it('reads tokens from the store at every use, so a refresh by another process is seen', async () => {
    const store = memoryOAuthStore({ tokens });
    const provider = new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired });
    expect(await provider.tokens()).toEqual(tokens);
    store.record = { tokens: { ...tokens, access_token: 'at-2' } };
    expect((await provider.tokens())?.access_token).toBe('at-2');
    expect(store.loads).toBe(2);
  });

  it('keeps what each step of a sign-in saves, next to what was there', async () => {
    const store = memoryOAuthStore({ tokens });
    const provider = new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired });
    await provider.saveClientInformation(client);
    await provider.saveDiscoveryState({ authorizationServerUrl: 'https://as.example' });
    await provider.saveTokens({ ...tokens, access_token: 'at-3' });
    expect(store.record).toEqual({
      client,
      discovery: { authorizationServerUrl: 'https://as.example' },
      tokens: { ...tokens, access_token: 'at-3' },
    });
  });

  it('in the worker, where nobody can sign in, asking for a sign-in fails with the route to do it', () => {
    const provider = new McpOAuthClient({
      redirectUrl: 'https://chat.example/cb',
      store: memoryOAuthStore(),
      signInRequired,
    });
    const ask = () => provider.redirectToAuthorization(new URL('https://as.example/authorize'));
    expect(ask).toThrow(McpSignInRequiredError);
    expect(ask).toThrow(`MCP server "cal" needs its owner to sign in: POST /api/v1/mcp-servers/${server.id}/oauth`);
    expect(() => provider.state()).toThrow(McpSignInRequiredError);
    expect(() => provider.codeVerifier()).toThrow(McpSignInRequiredError);
    // Not worth retrying, and not a failure of the server (its breaker stays closed).
    expect(new McpSignInRequiredError(server)).toBeInstanceOf(ToolError);
    expect(new McpSignInRequiredError(server).retryable).toBe(false);
  });

  it('starting a sign-in keeps the page and the verifier for the caller, and sends its state', () => {
    const provider = new McpOAuthClient({
      redirectUrl: 'https://chat.example/cb',
      store: memoryOAuthStore(),
      signIn: { state: 'the-state' },
      signInRequired,
    });
    provider.saveCodeVerifier('verifier');
    provider.redirectToAuthorization(new URL('https://as.example/authorize?x=1'));
    expect(provider.state()).toBe('the-state');
    expect(provider.authorizationUrl?.href).toBe('https://as.example/authorize?x=1');
    expect(provider.pendingCodeVerifier).toBe('verifier');
    expect(provider.codeVerifier()).toBe('verifier');
    expect(provider.clientMetadata).toMatchObject({
      redirect_uris: ['https://chat.example/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
  });

  it('forgets only what the SDK says is no longer valid', async () => {
    const full = { client, tokens, discovery: { authorizationServerUrl: 'https://as.example' }, authorizedAt: 'x' };
    for (const [scope, left] of [
      ['tokens', { client, discovery: full.discovery, authorizedAt: 'x' }],
      ['client', { tokens, discovery: full.discovery, authorizedAt: 'x' }],
      ['discovery', { client, tokens, authorizedAt: 'x' }],
      ['all', {}],
    ] as const) {
      const store = memoryOAuthStore(full);
      const provider = new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired });
      await provider.tokens(); // the SDK reads the tokens before it refreshes with them
      await provider.invalidateCredentials(scope);
      expect(JSON.parse(JSON.stringify(store.record))).toEqual(left);
    }
  });
});

/** The provider as the API's sign-in steps build it: keeps what is stored, holds a started sign-in's verifier. */
const apiStep = (store: MemoryOAuthStore) =>
  new McpOAuthClient({
    redirectUrl: 'https://chat.example/cb',
    store,
    keepStored: true,
    codeVerifier: 'v',
    signInRequired,
  });

describe('McpOAuthClient, refreshed by two processes at once', () => {
  it('keeps the tokens another process got while this one refreshed with the old ones', async () => {
    const store = memoryOAuthStore({ client, tokens });
    const provider = new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired });
    await provider.tokens(); // lent rt-1
    // Another worker refreshed first: the authorization server rotated rt-1 away, so this refresh got invalid_grant.
    store.record = { client, tokens: { ...tokens, access_token: 'at-2', refresh_token: 'rt-2' } };
    await provider.invalidateCredentials('tokens');
    expect(store.record.tokens?.refresh_token).toBe('rt-2');
    // The SDK tries again with what is stored now; if that one fails too, it is the one lent, and it goes.
    await provider.tokens();
    await provider.invalidateCredentials('tokens');
    expect(store.record).toEqual({ client });
  });

  it('a refresh that ends after the user signed in again, or after another refresh, leaves the newer tokens', async () => {
    const signedInAgain = { access_token: 'at-new', token_type: 'Bearer', refresh_token: 'rt-new' };
    const store = memoryOAuthStore({ client, tokens });
    const worker = new McpOAuthClient({ redirectUrl: 'https://chat.example/cb', store, signInRequired });
    await worker.tokens(); // lent rt-1, refreshing with it…
    store.record = { client, tokens: signedInAgain, authorizedAt: '2026-12-06T12:00:00.000Z' };
    await worker.saveTokens({ ...tokens, access_token: 'at-2', refresh_token: 'rt-2' });
    expect(store.record.tokens).toEqual(signedInAgain);
    // With the row as it lent it, the refresh's tokens are kept.
    await worker.tokens();
    await worker.saveTokens({ ...tokens, access_token: 'at-3', refresh_token: 'rt-3' });
    expect(store.record.tokens?.refresh_token).toBe('rt-3');
  });

  it("saves the API's code exchange whatever was refreshed meanwhile: the user's new sign-in is the newest", async () => {
    const store = memoryOAuthStore({ client, tokens });
    const api = apiStep(store);
    await api.tokens();
    store.record = { client, tokens: { ...tokens, refresh_token: 'rt-refreshed' } };
    await api.saveTokens({ ...tokens, access_token: 'at-signed-in', refresh_token: 'rt-signed-in' });
    expect(store.record.tokens?.refresh_token).toBe('rt-signed-in');
  });

  it("removes nothing in the API's sign-in steps: a late or repeated code leaves the working sign-in", async () => {
    const store = memoryOAuthStore({ client, tokens });
    const provider = apiStep(store);
    await provider.tokens();
    for (const scope of ['tokens', 'client', 'discovery', 'all'] as const) await provider.invalidateCredentials(scope);
    expect(store.record).toEqual({ client, tokens });
    await provider.invalidateCredentials('verifier');
    expect(() => provider.codeVerifier()).toThrow(McpSignInRequiredError);
  });
});

describe('sealed OAuth records', () => {
  const box = new SecretBox(randomBytes(32));

  it('open only on the row they were sealed for', () => {
    const sealed = sealMcpOAuth(box, server.id, { tokens });
    expect(sealed).not.toContain('at-1');
    expect(openMcpOAuth(box, { id: server.id, oauthSealed: sealed })).toEqual({ tokens });
    expect(() => openMcpOAuth(box, { id: randomBytes(4).toString('hex'), oauthSealed: sealed })).toThrow();
    expect(openMcpOAuth(box, { id: server.id, oauthSealed: null })).toEqual({});
  });

  it('keep a verifier apart from a record: one does not open as the other', () => {
    const verifier = sealMcpOAuthVerifier(box, server.id, 'pkce-verifier');
    expect(openMcpOAuthVerifier(box, server.id, verifier)).toBe('pkce-verifier');
    expect(() => openMcpOAuth(box, { id: server.id, oauthSealed: verifier })).toThrow();
  });
});
