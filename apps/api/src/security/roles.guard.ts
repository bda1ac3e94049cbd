import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Database } from '#libs/db/database';
import type { UserRole } from '#libs/db/entities/user.entity';
import { ForbiddenError, UnauthorizedError } from '#libs/errors/app-error';
import { DATABASE } from '../infra/di-symbols';

/** Metadata key of `@Roles(...)`. */
export const REQUIRED_ROLES = 'gigachat:requiredRoles';

/**
 * Applies `@Roles(...)`: the caller needs one of the roles both in its token and, right now, in the database, so a
 * demoted or disabled admin loses admin routes at once rather than when the access token expires. Answers 403
 * `forbidden` (admin routes are no secret).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(DATABASE) private readonly db: Database,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles || roles.length === 0) return true;
    const principal = context.switchToHttp().getRequest<Request>().principal;
    if (!principal) throw new UnauthorizedError();
    if (hasRole(principal.role, roles)) {
      const user = await this.db.users.findStanding(principal.userId);
      if (user && !user.disabled && hasRole(user.role, roles)) return true;
    }
    throw new ForbiddenError(`This route needs the role ${roles.join(' or ')}`);
  }
}

export function hasRole(role: string, allowed: readonly UserRole[]): boolean {
  return (allowed as readonly string[]).includes(role);
}
