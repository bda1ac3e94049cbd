import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { TurnsModule } from '../turns/turns.module';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';

/** Edit, regenerate and feedback on single messages; edits and regenerates run through TurnsService like a send. */
@Module({
  imports: [AccessModule, TurnsModule],
  controllers: [MessagesController],
  providers: [MessagesService],
})
export class MessagesModule {}
