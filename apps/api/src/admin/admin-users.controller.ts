import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../auth/principal';
import { clientInfo } from '../common/client-info';
import { CurrentPrincipal } from '../common/current-principal.decorator';
import { ApiProblems } from '../common/problem.responses';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { AdminUserPage, AdminUserView } from './admin-user.view';
import { AdminUsersService } from './admin-users.service';
import { ListUsersQuery } from './dto/list-users.query';
import { UpdateUserDto } from './dto/update-user.dto';
import { RequireScopes } from '../security/require-scopes.decorator';
import { Roles } from '../security/roles.decorator';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401)
@Roles('admin')
@RequireScopes('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Get()
  @ApiOperation({ summary: 'Users, newest first: filter by email substring, role, lockout state (cursor paging)' })
  @ApiOkResponse({ type: AdminUserPage })
  @ApiProblems(400)
  list(@Query() query: ListUsersQuery): Promise<AdminUserPage> {
    return this.users.list(query);
  }

  @Patch(':id')
  @ApiOperation({
    summary: "Change a user's role or disabled state",
    description:
      'Demoting or disabling ends every session of the account at once. You cannot demote or disable yourself (409).',
  })
  @ApiOkResponse({ type: AdminUserView })
  @ApiProblems(400, 404, 409)
  update(
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateUserDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
  ): Promise<AdminUserView> {
    return this.users.update(id, dto, principal, clientInfo(req));
  }

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
