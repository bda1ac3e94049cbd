import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { TurnEventLog } from '#libs/events/turn-event-log';
import { ConversationsModule } from '../conversations/conversations.module';
import { REDIS } from '../infra/di-symbols';
import { TurnCancellationService } from './turn-cancellation.service';
import { ToolApprovalService } from './tool-approval.service';
import { TurnResponder } from './turn-responder';
import { TurnRunner } from './turn-runner';
import { TurnsController } from './turns.controller';
import { TurnsService } from './turns.service';

@Module({
  imports: [ConversationsModule],
  controllers: [TurnsController],
  providers: [
    TurnsService,
    TurnResponder,
    TurnCancellationService,
    ToolApprovalService,
    TurnRunner,
    { provide: TurnEventLog, useFactory: (redis: Redis) => new TurnEventLog(redis), inject: [REDIS] },
  ],
  // Messages (send, edit, regenerate) answer through the responder; the WebSocket gateway (RealtimeModule) creates and
  // follows turns through the same service.
  exports: [TurnsService, TurnResponder],
})
export class TurnsModule {}
