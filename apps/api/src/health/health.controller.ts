import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Client, Connection } from '@temporalio/client';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Database } from '#libs/db/database';
import { Public } from '../common/public.decorator';
import type { ObjectStore } from '#libs/storage/object-store';
import type { Logger } from '#libs/logging/logger';
import { DATABASE, LOGGER, OBJECT_STORE, REDIS, TEMPORAL_CLIENT } from '../infra/di-symbols';

/** `error` is `timeout` or `unreachable`; the underlying message goes to the log only (`detail`). */
type Check = { status: 'up' | 'down'; ms: number; error?: 'timeout' | 'unreachable'; detail?: string };

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(TEMPORAL_CLIENT) private readonly temporal: Client,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up (no dependency checks)' })
  @ApiOkResponse({ description: '{status: "ok"}' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'MySQL, Redis, Temporal and the object store answer; 503 naming the ones that do not' })
  @ApiOkResponse({
    description: 'Every dependency answers; otherwise 503 with the same body, `checks` naming what is down',
  })
  async ready(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: 'ok' | 'unavailable'; checks: Record<string, Omit<Check, 'detail'>> }> {
    const [database, redis, temporal, objectStore] = await Promise.all([
      check(() => this.db.ping()),
      check(() => this.redis.ping()),
      check(() => (this.temporal.connection as Connection).healthService.check({})),
      // Read-only: an unauthenticated probe never creates anything.
      check(() => this.store.checkReady()),
    ]);
    for (const [name, entry] of Object.entries({ database, redis, temporal, objectStore })) {
      if (entry.status === 'down') this.logger.warn({ dependency: name, err: entry.detail }, 'readiness check failed');
    }
    // The reason stays in the log: host names and paths are not for anonymous callers.
    const checks = Object.fromEntries(
      Object.entries({ database, redis, temporal, objectStore }).map(([name, { detail: _detail, ...shown }]) => [
        name,
        shown,
      ]),
    );
    const ok = Object.values(checks).every((entry) => entry.status === 'up');
    if (!ok) res.status(503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}

const TIMED_OUT = 'no answer in time';

async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(TIMED_OUT)), timeoutMs);
      }),
    ]);
    return { status: 'up', ms: Math.round(performance.now() - started) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      status: 'down',
      ms: Math.round(performance.now() - started),
      error: detail === TIMED_OUT ? 'timeout' : 'unreachable',
      detail,
    };
  } finally {
    clearTimeout(timer);
  }
}
