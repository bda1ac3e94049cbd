// TEMPORARY stub until the mcp-client branch lands.
export interface McpServerConfig {
  name: string;
  transport: 'http' | 'stdio';
  url?: string;
  headers?: Record<string, string>;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  requiresApproval?: boolean;
  timeoutMs?: number;
  publicOnly?: boolean;
}
export function parseMcpServers(json: string): McpServerConfig[] {
  return json.trim() === '' ? [] : (JSON.parse(json) as McpServerConfig[]);
}
