import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '#libs/config/app-config';
import { MCP_TOOL_NAME } from '#libs/contracts/tool-calls';
import type { Repositories } from '#libs/db/database';
import { ValidationError } from '#libs/errors/app-error';
import { ToolRegistry } from '#libs/tools/tool-registry';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';

/** A conversation's tools as stored: each name once, and null for none. */
export function storedTools(names: readonly string[] | null | undefined): string[] | null {
  return names?.length ? [...new Set(names)] : null;
}

/**
 * Which tool names a user may ask for, in a message or as a conversation's tools: the tools this deployment offers
 * (`GET /tools`) and the tools of an MCP server the user may use, the deployment's or their own (`<server>__<tool>` or
 * `<server>__*`; which tools a server offers is asked when a turn starts, so only the server is checked here).
 */
@Injectable()
export class OfferedTools {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly db: Repositories,
    private readonly registry: ToolRegistry,
  ) {}

  /** The names in `names` the user may not ask for, in their order. `repos` reads the user's MCP servers (a tx). */
  async unknownOf(userId: string, names: readonly string[], repos: Repositories = this.db): Promise<string[]> {
    let ownServers: Set<string> | undefined;
    const unknown: string[] = [];
    for (const name of names) {
      const server = MCP_TOOL_NAME.exec(name)?.[1];
      let known: boolean;
      if (server === undefined) known = this.registry.get(name) !== undefined;
      else if (this.config.tools.mcpServers.some((each) => each.name === server)) known = true;
      else {
        ownServers ??= new Set((await repos.mcpServers.listOwned(userId)).map((each) => each.name));
        known = ownServers.has(server);
      }
      if (!known) unknown.push(name);
    }
    return unknown;
  }

  /** Throws a `validation_failed` naming `field` unless the user may ask for every one of `names`. */
  async require(userId: string, names: readonly string[], field: string, repos?: Repositories): Promise<void> {
    const unknown = await this.unknownOf(userId, names, repos);
    if (unknown.length === 0) return;
    const offered = this.registry.names().join(', ') || 'none';
    throw new ValidationError([
      { field, message: `unknown tool ${unknown.join(', ')} (this server offers: ${offered})` },
    ]);
  }

  /** `names` without those the user may no longer ask for (a conversation's tools the deployment stopped offering). */
  async keepOffered(userId: string, names: readonly string[], repos?: Repositories): Promise<string[]> {
    const unknown = new Set(await this.unknownOf(userId, names, repos));
    return names.filter((name) => !unknown.has(name));
  }
}
