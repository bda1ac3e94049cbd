import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ConversationSharesController } from './conversation-shares.controller';
import { ConversationSharesService } from './conversation-shares.service';
import { ConversationTransferService } from './conversation-transfer.service';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

@Module({
  imports: [AccessModule],
  controllers: [ConversationsController, ConversationSharesController],
  providers: [ConversationsService, ConversationSharesService, ConversationTransferService],
  exports: [ConversationsService, AccessModule],
})
export class ConversationsModule {}
