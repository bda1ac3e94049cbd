import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ChunkStore } from '#libs/retrieval/chunk-store';
import { RedisIndexVersions } from '#libs/retrieval/index-versions';
import { DATA_SOURCE, REDIS } from '../infra/di-symbols';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';
import { IngestRunner } from './ingest-runner';

/** Uploads, downloads and deletion of users' files; ingestion runs in the worker (`ingestFile`). */
@Module({
  controllers: [FilesController],
  providers: [
    FilesService,
    IngestRunner,
    {
      provide: ChunkStore,
      inject: [DATA_SOURCE, REDIS],
      useFactory: (db: DataSource, redis: Redis) => new ChunkStore(db, new RedisIndexVersions(redis)),
    },
  ],
})
export class FilesModule {}
