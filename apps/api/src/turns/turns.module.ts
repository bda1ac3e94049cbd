import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { TurnRunner } from './turn-runner';
import { TurnsController } from './turns.controller';
import { TurnsService } from './turns.service';

@Module({
  imports: [ConversationsModule],
  controllers: [TurnsController],
  providers: [TurnsService, TurnRunner],
})
export class TurnsModule {}
