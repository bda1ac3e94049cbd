import { Module } from '@nestjs/common';
import { TurnsModule } from '../turns/turns.module';
import { OpenAiChatService } from './openai-chat.service';
import { OpenAiController } from './openai.controller';

/** The OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`), answered by chat turns. */
@Module({
  imports: [TurnsModule],
  controllers: [OpenAiController],
  providers: [OpenAiChatService],
})
export class OpenAiModule {}
