import { PickType } from '@nestjs/swagger';
import { SendMessageDto } from '../../turns/dto/send-message.dto';

/** Optional: the model for the new reply; the conversation's otherwise. The body may be empty or absent. */
export class RegenerateMessageDto extends PickType(SendMessageDto, ['model'] as const) {}
