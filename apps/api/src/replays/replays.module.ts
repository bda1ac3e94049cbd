import { Module } from '@nestjs/common';
import { ReplayRunner } from './replay-runner';
import { ReplaysController } from './replays.controller';
import { ReplaysService } from './replays.service';

/** Batch replays (`/replays`): admin only, each replay its creator's. */
@Module({
  controllers: [ReplaysController],
  providers: [ReplaysService, ReplayRunner],
})
export class ReplaysModule {}
