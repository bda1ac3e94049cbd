import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The OAuth side of an MCP server, as the MCP authorization spec asks (what hosted MCP servers run): protected
 * resource metadata (RFC 9728), authorization server metadata (RFC 8414), dynamic client registration (RFC 7591), an
 * authorization endpoint that approves at once (the user said yes) and a token endpoint for the authorization code
 * grant with PKCE S256 (RFC 7636) and rotating refresh tokens. Mounted on the fake MCP server, which asks it whether a
 * request's bearer token is good and answers 401 with the resource metadata's address when it is not.
 */
export class FakeOAuthServer {
  /** Clients registered: their ids and redirect URIs. */
  readonly clients = new Map<string, string[]>();
  /** Token requests by grant type, in order. */
  readonly grants: string[] = [];
  /** Every `resource` the client named (RFC 8707), at authorization and token requests. */
  readonly resources: string[] = [];
  private readonly codes = new Map<string, { clientId: string; challenge: string; redirectUri: string }>();
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Map<string, string>();

  constructor(readonly scope = 'calendar.read') {}

  /** The access tokens issued so far stop working (as at their expiry): the client must refresh. */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** The refresh tokens stop working too (the user revoked GigaChat): only a new sign-in helps. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  accepts(authorization: string | undefined): boolean {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return token !== undefined && this.accessTokens.has(token);
  }

  /** The header a 401 from the MCP endpoint carries, pointing at the resource metadata. */
  challenge(base: string): string {
    return `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`;
  }

  /** Answers the OAuth routes; false for any other path (the MCP endpoint's). */
  async route(req: IncomingMessage, res: ServerResponse, base: string): Promise<boolean> {
    const url = new URL(req.url ?? '/', base);
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /.well-known/oauth-protected-resource/mcp':
        send(res, 200, { resource: `${base}/mcp`, authorization_servers: [base], scopes_supported: [this.scope] });
        return true;
      case 'GET /.well-known/oauth-authorization-server':
        send(res, 200, {
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
        return true;
      case 'POST /register':
        this.register(JSON.parse(await readBody(req)) as Record<string, unknown>, res);
        return true;
      case 'GET /authorize':
        this.authorize(url.searchParams, res);
        return true;
      case 'POST /token':
        this.token(new URLSearchParams(await readBody(req)), res);
        return true;
      default:
        return false;
    }
  }

  private register(metadata: Record<string, unknown>, res: ServerResponse): void {
    const redirectUris = metadata['redirect_uris'];
    if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
      return send(res, 400, { error: 'invalid_redirect_uri' });
    }
    const clientId = `client-${randomBytes(8).toString('hex')}`;
    this.clients.set(clientId, redirectUris as string[]);
    send(res, 201, { ...metadata, client_id: clientId, client_id_issued_at: Math.floor(Date.now() / 1000) });
  }

  private authorize(query: URLSearchParams, res: ServerResponse): void {
    const clientId = query.get('client_id') ?? '';
    const redirectUri = query.get('redirect_uri') ?? '';
    const challenge = query.get('code_challenge');
    if (!this.clients.get(clientId)?.includes(redirectUri)) return send(res, 400, { error: 'invalid_client' });
    if (query.get('response_type') !== 'code' || !challenge || query.get('code_challenge_method') !== 'S256') {
      return send(res, 400, { error: 'invalid_request' });
    }
    this.resources.push(query.get('resource') ?? '');
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { clientId, challenge, redirectUri });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', query.get('state') ?? '');
    res.writeHead(302, { Location: back.href }).end();
  }

  private token(form: URLSearchParams, res: ServerResponse): void {
    const grant = form.get('grant_type') ?? '';
    this.grants.push(grant);
    this.resources.push(form.get('resource') ?? '');
    const clientId = form.get('client_id') ?? '';
    if (grant === 'authorization_code') {
      const issued = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? ''); // a code works once
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!issued || issued.clientId !== clientId || issued.challenge !== challenge) {
        return send(res, 400, { error: 'invalid_grant' });
      }
      if (issued.redirectUri !== form.get('redirect_uri')) return send(res, 400, { error: 'invalid_grant' });
      return send(res, 200, this.issue(clientId));
    }
    if (grant === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      if (this.refreshTokens.get(refreshToken) !== clientId) return send(res, 400, { error: 'invalid_grant' });
      this.refreshTokens.delete(refreshToken); // rotated
      return send(res, 200, this.issue(clientId));
    }
    send(res, 400, { error: 'unsupported_grant_type' });
  }

  private issue(clientId: string) {
    const accessToken = `at-${randomBytes(12).toString('hex')}`;
    const refreshToken = `rt-${randomBytes(12).toString('hex')}`;
    this.accessTokens.add(accessToken);
    this.refreshTokens.set(refreshToken, clientId);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: refreshToken,
      scope: this.scope,
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
