import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditWriter } from '#libs/audit/audit-writer';
import { SecretBox } from '#libs/auth/secret-box';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import { ConflictError, NotFoundError, ValidationError } from '#libs/errors/app-error';
import { openMcpOAuth } from '#libs/mcp/mcp-oauth';
import { openMcpHeaders, sealMcpHeaders } from '#libs/mcp/user-mcp-servers';
import { IpAddressPolicy } from '#libs/tools/builtin/ip-address-policy';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';
import type { AddMcpServerDto } from './dto/add-mcp-server.dto';
import { type McpServerView, toMcpServerView } from './mcp-server.view';

const MAX_HEADERS = 20;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/**
 * `/mcp-servers`: the MCP servers a user adds for their own turns. Their credentials (headers) are sealed with the
 * deployment's secret box before they are stored and never shown again; only public addresses are reached.
 */
@Injectable()
export class McpServersService {
  private readonly box: SecretBox;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditWriter,
  ) {
    this.box = new SecretBox(config.auth.totpEncryptionKey);
  }

  async add(principal: Principal, dto: AddMcpServerDto, client: ClientInfo): Promise<McpServerView> {
    const headers = checkedHeaders(dto.headers ?? {});
    if (dto.oauth && Object.keys(headers).length > 0) {
      throw new ValidationError([
        { field: 'headers', message: 'must be left out when oauth is true (the sign-in gives the credentials)' },
      ]);
    }
    this.checkUrl(dto.url);
    if (this.config.tools.mcpServers.some((server) => server.name === dto.name)) {
      throw new ConflictError(`The server name ${dto.name} is taken by one of this deployment's servers`);
    }
    const id = randomUUID();
    const saved = await this.db.transaction(async (tx) => {
      const created = await tx.mcpServers.create({
        id,
        userId: principal.userId,
        name: dto.name,
        url: dto.url,
        headersSealed: sealMcpHeaders(this.box, id, headers),
        requiresApproval: dto.requiresApproval ?? true,
        oauth: dto.oauth ?? false,
      });
      if (!created) throw new ConflictError(`You already have an MCP server named ${dto.name}`);
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'mcp_server.added',
          targetType: 'mcp_server',
          targetId: id,
          metadata: { name: dto.name, url: dto.url, headerNames: Object.keys(headers), oauth: dto.oauth ?? false },
          ...client,
        },
        tx,
      );
      return tx.mcpServers.findOwned(id, principal.userId);
    });
    return toMcpServerView(saved!, Object.keys(headers));
  }

  async list(principal: Principal): Promise<McpServerView[]> {
    const servers = await this.db.mcpServers.listOwned(principal.userId);
    return servers.map((server) =>
      toMcpServerView(server, Object.keys(openMcpHeaders(this.box, server)), openMcpOAuth(this.box, server)),
    );
  }

  async remove(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await tx.mcpServers.deleteOwned(id, principal.userId))) throw new NotFoundError('The MCP server');
      await this.audit.record(
        { actorId: principal.userId, action: 'mcp_server.removed', targetType: 'mcp_server', targetId: id, ...client },
        tx,
      );
    });
  }

  /** No credentials in the URL, no private or loopback address written as one (names are checked at each connect). */
  private checkUrl(raw: string): void {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ValidationError([{ field: 'url', message: 'must be an http(s) URL' }]);
    }
    if (url.username || url.password) {
      throw new ValidationError([{ field: 'url', message: 'must not carry credentials (send them as headers)' }]);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const policy = new IpAddressPolicy(this.config.tools.fetchUrlAllowedPrivateNetworks);
    const refusal =
      host === 'localhost' || host.endsWith('.localhost')
        ? 'is a loopback name'
        : /^[\d.]+$|:/.test(host)
          ? policy.refusalReason(host)
          : null;
    if (refusal) throw new ValidationError([{ field: 'url', message: `must be a public address (${refusal})` }]);
  }
}

function checkedHeaders(headers: Record<string, unknown>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) {
    throw new ValidationError([{ field: 'headers', message: `at most ${MAX_HEADERS} headers` }]);
  }
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name) || typeof value !== 'string' || value.length > 4000 || /[\r\n\0]/.test(value)) {
      throw new ValidationError([{ field: 'headers', message: 'must be header names with string values' }]);
    }
  }
  return headers as Record<string, string>;
}
