import type { AppConfig } from '../config/app-config';
import { createBuiltinTools, type SearchFunction } from './builtin/index';
import { ToolError } from './tool-definition';
import { ToolRegistry } from './tool-registry';

/** The services the search tools run on; the API, which only lists tools, passes none. */
export interface ToolServices {
  webSearch: SearchFunction;
  searchFiles: SearchFunction;
}

/** Where a tool that only the worker can run says so, if the API were ever to run it. */
const workerOnly: SearchFunction = () => Promise.reject(new ToolError('This tool runs in the worker'));

/**
 * The tools this deployment offers, the same in the API (which lists them and checks a turn's `tools`) and in the
 * worker (which runs them): the built-ins named in `TOOLS_ENABLED`, less `web_search` when no SearxNG is configured,
 * with `TOOLS_REQUIRE_APPROVAL` forcing approval.
 */
export function deploymentTools(config: Pick<AppConfig, 'tools' | 'webSearch'>, services?: ToolServices): ToolRegistry {
  const tools = createBuiltinTools({
    ...(config.webSearch.searxngUrl ? { webSearch: services?.webSearch ?? workerOnly } : {}),
    searchFiles: services?.searchFiles ?? workerOnly,
    fetchUrl: {
      allowedPrivateNetworks: config.tools.fetchUrlAllowedPrivateNetworks,
      timeoutMs: config.tools.fetchUrlTimeoutMs,
    },
  }).filter((tool) => config.tools.enabled.includes(tool.name));
  const offered = new Set(tools.map((tool) => tool.name));
  return new ToolRegistry(tools, { requireApproval: config.tools.requireApproval.filter((name) => offered.has(name)) });
}
