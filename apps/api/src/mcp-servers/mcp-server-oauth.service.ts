import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { AuditWriter } from '#libs/audit/audit-writer';
import { SecretBox } from '#libs/auth/secret-box';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import type { McpServerEntity } from '#libs/db/entities/mcp-server.entity';
import { ConflictError, NotFoundError, TurnError, ValidationError } from '#libs/errors/app-error';
import {
  MCP_OAUTH_PENDING_MS,
  McpOAuthClient,
  type McpOAuthRecord,
  McpSignInRequiredError,
  openMcpOAuth,
  openMcpOAuthVerifier,
  sealMcpOAuth,
  sealMcpOAuthVerifier,
} from '#libs/mcp/mcp-oauth';
import { PublicAddressGuard } from '#libs/mcp/public-address-guard';
import { mcpOAuthRedirectUrl } from '#libs/mcp/user-mcp-servers';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';
import { type McpServerView, toMcpServerView } from './mcp-server.view';

/** Each request of a sign-in to a user's server or its authorization server: at most this long, this big. */
const OAUTH_REQUEST_TIMEOUT_MS = 10_000;
const OAUTH_RESPONSE_MAX_BYTES = 256 * 1024;

/** What starting a sign-in gives the client: the page to open in the browser where the user uses GigaChat. */
export interface McpOAuthStart {
  authorizationUrl: string;
  expiresAt: string;
}

/**
 * OAuth sign-in to a user's MCP server (the MCP authorization spec: protected resource metadata, authorization server
 * discovery, dynamic client registration, authorization code with PKCE, resource indicators), through the SDK.
 *
 * Start (`POST /mcp-servers/:id/oauth`) returns the authorization server's page for the user's browser; it sends the
 * browser back to the web client's callback page, which hands the code and state to finish
 * (`POST /mcp-servers/oauth/complete`) with the user's own credentials. Finishing needs the signed-in owner, so a link
 * to someone else's authorization cannot attach a victim's account to it (login CSRF). The state is random, stored
 * only hashed, used once and for ten minutes; the PKCE verifier is sealed. Every request to the server and its
 * authorization server goes through the public address guard (SSRF), as the worker's do.
 */
@Injectable()
export class McpServerOAuthService implements OnModuleDestroy {
  private readonly box: SecretBox;
  private readonly guard: PublicAddressGuard;
  private readonly redirectUrl: string;
  private readonly fetch: FetchLike;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly audit: AuditWriter,
  ) {
    this.box = new SecretBox(config.auth.totpEncryptionKey);
    this.guard = new PublicAddressGuard(config.tools.fetchUrlAllowedPrivateNetworks);
    this.redirectUrl = mcpOAuthRedirectUrl(config.api.publicUrl);
    this.fetch = boundedFetch(this.guard.fetch);
  }

  onModuleDestroy(): void {
    this.guard.close();
  }

  async start(principal: Principal, id: string, client: ClientInfo): Promise<McpOAuthStart> {
    const server = await this.db.mcpServers.findOwned(id, principal.userId);
    if (!server) throw new NotFoundError('The MCP server');
    if (!server.oauth) throw new ConflictError('This MCP server sends headers; it was not added with oauth: true');
    const state = randomBytes(32).toString('base64url');
    // A new sign-in, even when tokens exist (another account, more scopes): the SDK must not just refresh them. They
    // stay on the row until the new ones come, so the server keeps working meanwhile.
    const provider = this.provider(server, { signIn: { state }, hideTokens: true });
    const result = await this.talkTo(server, () => auth(provider, { serverUrl: server.url, fetchFn: this.fetch }));
    const authorizationUrl = provider.authorizationUrl;
    const codeVerifier = provider.pendingCodeVerifier;
    const webPage = authorizationUrl?.protocol === 'https:' || authorizationUrl?.protocol === 'http:';
    if (result !== 'REDIRECT' || !authorizationUrl || !webPage || !codeVerifier) {
      throw new TurnError('upstream_unavailable', "The MCP server's authorization server gave no page to sign in at");
    }
    const expiresAt = new Date(Date.now() + MCP_OAUTH_PENDING_MS);
    const started = await this.db.mcpServers.startOAuth(server.id, principal.userId, {
      stateHash: hashState(state),
      pendingSealed: sealMcpOAuthVerifier(this.box, server.id, codeVerifier),
      expiresAt,
    });
    if (!started) throw new NotFoundError('The MCP server');
    await this.audit.record({
      actorId: principal.userId,
      action: 'mcp_server.oauth_started',
      targetType: 'mcp_server',
      targetId: server.id,
      metadata: { authorizationServer: authorizationUrl.origin },
      ...client,
    });
    return { authorizationUrl: authorizationUrl.href, expiresAt: expiresAt.toISOString() };
  }

  async complete(
    principal: Principal,
    body: { state: string; code: string },
    client: ClientInfo,
  ): Promise<McpServerView> {
    const pending = await this.db.mcpServers.takeOAuthPending(hashState(body.state), principal.userId, new Date());
    if (!pending) {
      throw new ValidationError(
        [{ field: 'state', message: 'matches no sign-in of yours under way (unknown, already used or expired)' }],
        'No such sign-in: start it again with POST /mcp-servers/:id/oauth',
      );
    }
    const { server } = pending;
    const codeVerifier = openMcpOAuthVerifier(this.box, server.id, pending.pendingSealed);
    const provider = this.provider(server, { codeVerifier });
    await this.talkTo(server, () =>
      auth(provider, { serverUrl: server.url, authorizationCode: body.code, fetchFn: this.fetch }),
    );
    const saved = await this.db.mcpServers.findOwned(server.id, principal.userId);
    if (!saved) throw new NotFoundError('The MCP server');
    const record: McpOAuthRecord = { ...openMcpOAuth(this.box, saved), authorizedAt: new Date().toISOString() };
    await this.db.mcpServers.saveOAuth(server.id, sealMcpOAuth(this.box, server.id, record));
    await this.audit.record({
      actorId: principal.userId,
      action: 'mcp_server.oauth_signed_in',
      targetType: 'mcp_server',
      targetId: server.id,
      metadata: { scope: record.tokens?.scope ?? null },
      ...client,
    });
    return toMcpServerView({ ...saved, oauthSealed: sealMcpOAuth(this.box, server.id, record) }, [], record);
  }

  /**
   * The SDK's OAuth client over the row; `hideTokens` makes it start a sign-in while keeping the row's tokens. A
   * client registered for another redirect URL (`PUBLIC_URL` changed) is not shown either, so GigaChat registers
   * again. Nothing here removes what the row holds: a failed step leaves the working sign-in as it was.
   */
  private provider(
    server: McpServerEntity,
    options: { signIn?: { state: string }; codeVerifier?: string; hideTokens?: boolean },
  ): McpOAuthClient {
    const current = async () => {
      const row = await this.db.mcpServers.findOwned(server.id, server.userId);
      if (!row) throw new NotFoundError('The MCP server');
      return openMcpOAuth(this.box, row);
    };
    return new McpOAuthClient({
      redirectUrl: this.redirectUrl,
      signIn: options.signIn,
      codeVerifier: options.codeVerifier,
      keepStored: true,
      signInRequired: () => new McpSignInRequiredError(server),
      store: {
        load: async () => {
          const record = await current();
          const uris = record.client && 'redirect_uris' in record.client ? record.client.redirect_uris : [];
          const registered = uris.includes(this.redirectUrl) ? record.client : undefined;
          return { ...record, client: registered, ...(options.hideTokens ? { tokens: undefined } : {}) };
        },
        save: async (record) => {
          const tokens = options.hideTokens ? (await current()).tokens : record.tokens;
          await this.db.mcpServers.saveOAuth(server.id, sealMcpOAuth(this.box, server.id, { ...record, tokens }));
        },
      },
    });
  }

  /** Runs an exchange with the server or its authorization server; their failures are a 502 that says which. */
  private async talkTo<T>(server: McpServerEntity, exchange: () => Promise<T>): Promise<T> {
    try {
      return await exchange();
    } catch (error) {
      if (error instanceof NotFoundError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new TurnError(
        'upstream_unavailable',
        `Signing in to MCP server "${server.name}" failed: ${reason.slice(0, 300)}`,
      );
    }
  }
}

/** The state is stored only as its SHA-256: reading the table does not let anyone finish a sign-in. */
function hashState(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

/** `fetch` with a deadline per request and a cap on what a response may hold (a hostile server sends gigabytes). */
function boundedFetch(fetch: FetchLike): FetchLike {
  return async (url, init = {}) => {
    const deadline = AbortSignal.timeout(OAUTH_REQUEST_TIMEOUT_MS);
    const response = await fetch(url, {
      ...init,
      signal: init.signal ? AbortSignal.any([init.signal, deadline]) : deadline,
    });
    if (!response.body) return response;
    let size = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size > OAUTH_RESPONSE_MAX_BYTES)
            controller.error(new Error(`A response over ${OAUTH_RESPONSE_MAX_BYTES} bytes`));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
