import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TurnEventLog } from '#libs/events/turn-event-log';
import { ConversationsModule } from '../conversations/conversations.module';
import { REDIS } from '../infra/di-symbols';
import { TurnCancellationService } from './turn-cancellation.service';
import { TurnRunner } from './turn-runner';
import { TurnsController } from './turns.controller';
import { TurnsService } from './turns.service';

@Module({
  imports: [ConversationsModule],
  controllers: [TurnsController],
  providers: [
    TurnsService,
    TurnCancellationService,
    TurnRunner,
    { provide: TurnEventLog, useFactory: (redis: Redis) => new TurnEventLog(redis), inject: [REDIS] },
  ],
  // The WebSocket gateway (RealtimeModule) creates and follows turns through the same service.
  exports: [TurnsService],
})
export class TurnsModule {}
