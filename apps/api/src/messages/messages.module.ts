import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { TurnsModule } from '../turns/turns.module';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';

/**
 * Messages: list and send in a conversation, edit, regenerate and feedback on single ones. Sends, edits and
 * regenerates run a turn and answer through the TurnResponder.
 */
@Module({
  imports: [ConversationsModule, TurnsModule],
  controllers: [MessagesController],
  providers: [MessagesService],
})
export class MessagesModule {}
