import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { AdminUsersService } from './admin-users.service';
import { Roles } from './roles.decorator';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401)
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Post(':id/unlock')
  @HttpCode(204)
  @ApiOperation({ summary: 'Clear a login lockout (and the failed attempts that led to it)' })
  @ApiNoContentResponse({ description: 'Unlocked (also when it was not locked)' })
  @ApiProblems(400, 404)
  async unlock(
    @Param('id', UuidParamPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
  ): Promise<void> {
    await this.users.unlock(id, principal, clientInfo(req));
  }
}
