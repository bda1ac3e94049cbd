import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MCP_TOOL_ATTEMPTS } from '#libs/contracts/tool-calls';
import { TurnMcpGateway } from '#libs/mcp/turn-mcp-gateway';
import { ToolRegistry } from '#libs/tools/tool-registry';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { RequireScopes } from '../security/require-scopes.decorator';

export interface ToolView {
  name: string;
  description: string;
  /** JSON schema of the arguments (what the model is shown). */
  parameters: Record<string, unknown>;
  /** Each call waits for the turn owner's approval. */
  requiresApproval: boolean;
  timeoutMs: number;
  maxAttempts: number;
  /** The MCP server it comes from (the deployment's or yours); absent for built-ins. */
  server?: string;
}

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('tools')
export class ToolsController {
  constructor(
    private readonly registry: ToolRegistry,
    private readonly mcp: TurnMcpGateway,
  ) {}

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'The tools a turn may let the model call',
    description:
      'Name some as `tools` when sending a message. Calls stream as `tool.call` / `tool.result` events; a tool that ' +
      'requires approval waits for `POST /turns/:id/tool-calls/:callId/approve` (or `deny`).',
  })
  @ApiOkResponse({
    description:
      '{items: [{name, description, parameters, requiresApproval, timeoutMs, maxAttempts, server?}], notes}: the ' +
      "built-ins, then the tools of the deployment's MCP servers and of yours (`<server>__<tool>`; a server that " +
      'cannot be reached now is left out with a note)',
  })
  async list(@CurrentPrincipal() principal: Principal): Promise<{ items: ToolView[]; notes: string[] }> {
    const names = this.registry.names();
    const policies = new Map(this.registry.policies(names).map((policy) => [policy.name, policy]));
    const mcp = await this.mcp.allTools(principal.userId);
    return {
      items: [
        ...this.registry.openAiTools(names).map(({ function: spec }) => ({
          ...spec,
          requiresApproval: policies.get(spec.name)!.requiresApproval,
          timeoutMs: policies.get(spec.name)!.timeoutMs,
          maxAttempts: policies.get(spec.name)!.maxAttempts,
        })),
        ...mcp.tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          parameters: tool.parameters,
          requiresApproval: tool.requiresApproval,
          timeoutMs: tool.timeoutMs,
          maxAttempts: MCP_TOOL_ATTEMPTS,
          server: tool.server,
        })),
      ],
      notes: mcp.notes,
    };
  }
}
