import { Module } from '@nestjs/common';
import { ConversationAccess } from './conversation-access';

/** The authorization policy for conversations, used by every conversation and turn service. */
@Module({ providers: [ConversationAccess], exports: [ConversationAccess] })
export class AccessModule {}
