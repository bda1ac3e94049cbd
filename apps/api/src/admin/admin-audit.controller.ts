import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.responses';
import { AdminAuditService } from './admin-audit.service';
import { AuditPage } from './audit-entry.view';
import { ListAuditQuery } from './dto/list-audit.query';
import { RequireScopes } from '../security/require-scopes.decorator';
import { Roles } from '../security/roles.decorator';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401)
@Roles('admin')
@RequireScopes('admin')
@Controller('admin/audit')
export class AdminAuditController {
  constructor(private readonly audit: AdminAuditService) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first, filtered by actor, action, target and time (cursor paging)' })
  @ApiOkResponse({ type: AuditPage })
  @ApiProblems(400)
  list(@Query() query: ListAuditQuery): Promise<AuditPage> {
    return this.audit.list(query);
  }
}
