import { PickType } from '@nestjs/swagger';
import { SendMessageDto } from '../../turns/dto/send-message.dto';

/** The new text of a user message (and optionally the model to answer it), validated like a sent message. */
export class EditMessageDto extends PickType(SendMessageDto, ['content', 'model'] as const) {}
