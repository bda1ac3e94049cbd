import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ToolRegistry } from '#libs/tools/tool-registry';
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
}

@ApiTags('chat')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('tools')
export class ToolsController {
  constructor(private readonly registry: ToolRegistry) {}

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'The tools a turn may let the model call',
    description:
      'Name some as `tools` when sending a message. Calls stream as `tool.call` / `tool.result` events; a tool that ' +
      'requires approval waits for `POST /turns/:id/tool-calls/:callId/approve` (or `deny`).',
  })
  @ApiOkResponse({
    description: '{items: [{name, description, parameters, requiresApproval, timeoutMs, maxAttempts}]}',
  })
  list(): { items: ToolView[] } {
    const names = this.registry.names();
    const policies = new Map(this.registry.policies(names).map((policy) => [policy.name, policy]));
    return {
      items: this.registry.openAiTools(names).map(({ function: spec }) => ({
        ...spec,
        requiresApproval: policies.get(spec.name)!.requiresApproval,
        timeoutMs: policies.get(spec.name)!.timeoutMs,
        maxAttempts: policies.get(spec.name)!.maxAttempts,
      })),
    };
  }
}
