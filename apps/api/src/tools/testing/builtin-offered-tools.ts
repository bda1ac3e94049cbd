import type { AppConfig } from '#libs/config/app-config';
import type { Repositories } from '#libs/db/database';
import { createBuiltinTools } from '#libs/tools/builtin/index';
import { ToolRegistry } from '#libs/tools/tool-registry';
import { OfferedTools } from '../offered-tools';

/** {@link OfferedTools} for specs: every built-in tool and no operator MCP server; users' own servers from `db`. */
export function builtinOfferedTools(db: Repositories): OfferedTools {
  return new OfferedTools(
    { tools: { mcpServers: [] } } as unknown as AppConfig,
    db,
    new ToolRegistry(createBuiltinTools()),
  );
}
