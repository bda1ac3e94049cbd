import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import type { UserRole } from '#libs/db/entities/user.entity';
import { ApiProblems } from '../common/problem.responses';
import { REQUIRED_ROLES, RolesGuard } from './roles.guard';

/** Restricts a route (or a controller) to callers holding one of `roles`; others get 403 `forbidden`. */
export const Roles = (...roles: [UserRole, ...UserRole[]]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(REQUIRED_ROLES, roles), UseGuards(RolesGuard), ApiProblems(403));
