import { ApiProperty } from '@nestjs/swagger';

/** A model a caller may ask for: its name and the provider tried first, never a URL or a key. */
export class ModelView {
  @ApiProperty({ example: 'gpt-4o-mini' })
  id!: string;

  @ApiProperty({ example: 'openai', description: 'The provider tried first for this model' })
  provider!: string;

  @ApiProperty({ description: 'Used when neither the message nor the conversation names a model' })
  default!: boolean;
}

export class ModelList {
  @ApiProperty({ type: ModelView, isArray: true })
  items!: ModelView[];
}
