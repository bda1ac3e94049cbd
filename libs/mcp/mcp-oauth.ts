import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { SecretBox } from '../auth/secret-box';
import type { McpServerEntity } from '../db/entities/mcp-server.entity';
import { ToolError } from '../tools/tool-definition';
import type { ReleaseLock } from './refresh-lock';

/** What an OAuth sign-in to a user's MCP server leaves, kept sealed on the server's row. */
export interface McpOAuthRecord {
  /** The client GigaChat registered with the server's authorization server (dynamic client registration). */
  client?: OAuthClientInformationMixed;
  tokens?: OAuthTokens;
  /** Where the authorization server is and what it supports, so later refreshes skip discovery. */
  discovery?: OAuthDiscoveryState;
  /** When the user last completed a sign-in (ISO). */
  authorizedAt?: string;
}

/**
 * Where a provider reads and writes its server's record (the row, in the API and the worker alike). The worker's
 * `save` replaces only the record its last `load` read, so what another process wrote in between stands.
 */
export interface McpOAuthStore {
  load(): Promise<McpOAuthRecord>;
  save(record: McpOAuthRecord): Promise<void>;
}

/** The path of the web client's page the authorization server sends the browser back to. */
export const MCP_OAUTH_CALLBACK_PATH = '/mcp-servers/oauth/callback';
/** How long a started authorization may take to come back. */
export const MCP_OAUTH_PENDING_MS = 10 * 60_000;

/** A sealed record copied to another row does not open there. */
const recordContext = (serverId: string) => `mcp-oauth:${serverId}`;
const pendingContext = (serverId: string) => `mcp-oauth-pending:${serverId}`;

export function openMcpOAuth(box: SecretBox, server: Pick<McpServerEntity, 'id' | 'oauthSealed'>): McpOAuthRecord {
  return server.oauthSealed
    ? (JSON.parse(box.open(server.oauthSealed, recordContext(server.id))) as McpOAuthRecord)
    : {};
}

export function sealMcpOAuth(box: SecretBox, serverId: string, record: McpOAuthRecord): string {
  return box.seal(JSON.stringify(record), recordContext(serverId));
}

export function sealMcpOAuthVerifier(box: SecretBox, serverId: string, codeVerifier: string): string {
  return box.seal(codeVerifier, pendingContext(serverId));
}

export function openMcpOAuthVerifier(box: SecretBox, serverId: string, sealed: string): string {
  return box.open(sealed, pendingContext(serverId));
}

/** The server's OAuth sign-in is missing or no longer works: only its owner can sign in again, in a browser. */
export class McpSignInRequiredError extends ToolError {
  constructor(server: Pick<McpServerEntity, 'id' | 'name'>) {
    super(`MCP server "${server.name}" needs its owner to sign in: POST /api/v1/mcp-servers/${server.id}/oauth`);
  }
}

export interface McpOAuthClientOptions {
  /** Where the authorization server sends the browser back (registered with it). */
  redirectUrl: string;
  store: McpOAuthStore;
  /**
   * Starting a sign-in: the `state` to send, and the authorization URL is kept for the caller instead of failing.
   * Absent in the worker, where a sign-in cannot happen: asking for one throws `signInRequired()`.
   */
  signIn?: { state: string };
  /** Finishing a sign-in: the PKCE verifier its start kept. */
  codeVerifier?: string;
  /**
   * In the API's sign-in steps: what the SDK calls invalid is never removed from the row, so a code that comes too
   * late or twice cannot undo the sign-in that works now.
   */
  keepStored?: boolean;
  /**
   * In the worker: takes the lock under which one process at a time refreshes this sign-in's tokens (see
   * `fetchWithRefreshLock`). Absent: refreshes are not serialized.
   */
  refreshLock?: () => Promise<ReleaseLock>;
  signInRequired: () => Error;
}

/**
 * The MCP SDK's OAuth client for one user's server, over its sealed record: public client (PKCE, no secret),
 * registered dynamically, authorization code and refresh token grants. In the API it starts a sign-in (the URL for the
 * user's browser) and finishes it (the code exchange); in the worker it only lends the tokens to the transport and
 * refreshes them when the server refuses an access token. Every read goes to the store, so a token refreshed by
 * another process is the one used.
 */
export class McpOAuthClient implements OAuthClientProvider {
  #codeVerifier: string | undefined;
  #authorizationUrl: URL | undefined;
  /** The refresh token this client last lent out: the one the SDK refreshes with, and may then call invalid. */
  #lentRefreshToken: string | undefined;
  /** The refresh lock, held from a refresh that succeeded until its tokens are saved. */
  #releaseRefresh: ReleaseLock | undefined;

  constructor(private readonly options: McpOAuthClientOptions) {
    this.#codeVerifier = options.codeVerifier;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'GigaChat',
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  /** The URL a started sign-in sends the user's browser to. */
  get authorizationUrl(): URL | undefined {
    return this.#authorizationUrl;
  }

  /** The PKCE verifier a started sign-in made, for its finish. */
  get pendingCodeVerifier(): string | undefined {
    return this.#codeVerifier;
  }

  state(): string {
    if (!this.options.signIn) throw this.options.signInRequired();
    return this.options.signIn.state;
  }

  async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
    return (await this.options.store.load()).client;
  }

  async saveClientInformation(client: OAuthClientInformationMixed): Promise<void> {
    await this.update((record) => ({ ...record, client }));
  }

  async tokens(): Promise<OAuthTokens | undefined> {
    const { tokens } = await this.options.store.load();
    this.#lentRefreshToken = tokens?.refresh_token;
    return tokens;
  }

  /**
   * Keeps new tokens. A refresh (the worker's) keeps them only while the row still holds the tokens it lent: when the
   * user signed in again meanwhile, or another process refreshed first, what is on the row is newer and stays.
   */
  async saveTokens(tokens: OAuthTokens): Promise<void> {
    const refreshing = !this.options.keepStored && this.#lentRefreshToken !== undefined;
    try {
      await this.update((record) =>
        refreshing && record.tokens?.refresh_token !== this.#lentRefreshToken ? undefined : { ...record, tokens },
      );
    } finally {
      await this.#settleRefresh();
    }
  }

  /**
   * `fetch` for the transport, through which the SDK also refreshes tokens. Two processes whose access token was
   * refused at the same moment would both refresh with the same refresh token; the authorization server rotates it
   * at the first, so the second fails (and a strict server takes the reuse for theft and revokes the whole sign-in).
   * Here a refresh first waits for the sign-in's lock and then reads the row: when another process refreshed in the
   * meantime, its tokens are the answer and no request is made; otherwise the request goes out and the lock is held
   * until the new tokens are saved (or the request failed).
   */
  fetchWithRefreshLock(fetch: FetchLike): FetchLike {
    const lock = this.options.refreshLock;
    if (!lock) return fetch;
    return async (input, init) => {
      const params = init?.body instanceof URLSearchParams ? init.body : undefined;
      if (init?.method !== 'POST' || params?.get('grant_type') !== 'refresh_token') return fetch(input, init);
      const release = await lock();
      let held = false;
      try {
        const { tokens } = await this.options.store.load();
        if (tokens?.refresh_token !== undefined && tokens.refresh_token !== params.get('refresh_token')) {
          return Response.json(tokens);
        }
        const response = await fetch(input, init);
        held = response.ok;
        if (held) {
          await this.#settleRefresh();
          this.#releaseRefresh = release;
        }
        return response;
      } finally {
        if (!held) await release();
      }
    };
  }

  async #settleRefresh(): Promise<void> {
    const release = this.#releaseRefresh;
    this.#releaseRefresh = undefined;
    await release?.();
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    if (!this.options.signIn) throw this.options.signInRequired();
    this.#authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#codeVerifier) throw this.options.signInRequired();
    return this.#codeVerifier;
  }

  async discoveryState(): Promise<OAuthDiscoveryState | undefined> {
    return (await this.options.store.load()).discovery;
  }

  async saveDiscoveryState(discovery: OAuthDiscoveryState): Promise<void> {
    await this.update((record) => ({ ...record, discovery }));
  }

  /**
   * Forgets what the SDK found invalid. Tokens are kept when the row's refresh token is no longer the one this client
   * lent: another process refreshed them meanwhile (the authorization server rotated the token, which is why this
   * one's refresh failed), and the SDK's next try uses the new ones instead of signing the user out.
   */
  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    await this.#settleRefresh();
    if (scope === 'verifier') {
      this.#codeVerifier = undefined;
      return;
    }
    if (this.options.keepStored) return;
    const stored = await this.options.store.load();
    if (scope === 'tokens' && stored.tokens?.refresh_token !== this.#lentRefreshToken) return;
    await this.options.store.save(this.forget(stored, scope));
  }

  private forget(record: McpOAuthRecord, scope: 'all' | 'client' | 'tokens' | 'discovery'): McpOAuthRecord {
    if (scope === 'all') return {};
    const { client, tokens, discovery, ...rest } = record;
    return {
      ...rest,
      ...(scope === 'client' ? {} : { client }),
      ...(scope === 'tokens' ? {} : { tokens }),
      ...(scope === 'discovery' ? {} : { discovery }),
    };
  }

  /** Saves the stored record as `change` makes it; `change` returns undefined to leave it as it is. */
  private async update(change: (record: McpOAuthRecord) => McpOAuthRecord | undefined): Promise<void> {
    const changed = change(await this.options.store.load());
    if (changed) await this.options.store.save(changed);
  }
}
