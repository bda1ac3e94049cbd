import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'gigachat:isPublic';

/** Marks a route as reachable without a token. Every other route requires one (the auth guard is global). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
