import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/principal';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';
import { SearchMessagesQuery } from './dto/search-messages.query';
import type { MessageSearchPage } from './message-search-result.view';
import { SearchService } from './search.service';

@ApiTags('search')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('search')
export class SearchController {
  constructor(private readonly search: SearchService) {}

  @Get('messages')
  @RequireScopes('chat:read')
  @RateLimit('search')
  @ApiOperation({
    summary: 'Full-text search over the messages of the conversations you may read, newest first',
    description:
      'Own and shared conversations (archived ones included). Every word of `q` must occur (the last may be a ' +
      'prefix); words under 3 characters and common stopwords are ignored, so such a query finds nothing.',
  })
  @ApiOkResponse({
    description: '{items: [{messageId, conversationId, conversationTitle, role, snippet, createdAt}], nextCursor?}',
  })
  @ApiProblems(400)
  messages(@CurrentPrincipal() principal: Principal, @Query() query: SearchMessagesQuery): Promise<MessageSearchPage> {
    return this.search.messages(principal, query);
  }
}
