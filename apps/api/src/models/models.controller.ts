import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { ApiProblems } from '../common/problem.responses';
import { RequireScopes } from '../security/require-scopes.decorator';
import { ModelList } from './model.view';

@ApiTags('models')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('models')
export class ModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get()
  @RequireScopes('chat:read')
  @ApiOperation({
    summary: 'The models you may ask for, the default first',
    description: 'Send one as `model` of a conversation or a message. `offline` when no provider is configured.',
  })
  @ApiOkResponse({ type: ModelList })
  list(): ModelList {
    return {
      items: this.catalog.list().map(({ id, provider, default: isDefault }) => ({ id, provider, default: isDefault })),
    };
  }
}
