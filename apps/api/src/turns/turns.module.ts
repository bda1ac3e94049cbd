import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TurnEventLog } from '../../../../libs/events/turn-event-log';
import { ConversationsModule } from '../conversations/conversations.module';
import { REDIS } from '../infra/tokens';
import { TurnRunner } from './turn-runner';
import { TurnsController } from './turns.controller';
import { TurnsService } from './turns.service';

@Module({
  imports: [ConversationsModule],
  controllers: [TurnsController],
  providers: [
    TurnsService,
    TurnRunner,
    { provide: TurnEventLog, useFactory: (redis: Redis) => new TurnEventLog(redis), inject: [REDIS] },
  ],
})
export class TurnsModule {}
