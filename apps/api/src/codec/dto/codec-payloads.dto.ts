import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBase64,
  IsObject,
  IsOptional,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A payload's metadata as Temporal's JSON form has it: at most 32 names, each value base64. */
@ValidatorConstraint({ name: 'base64Map' })
class Base64Map implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    const entries = Object.entries(value as Record<string, unknown>);
    return (
      entries.length <= 32 &&
      entries.every(
        ([name, each]) => name.length > 0 && name.length <= 256 && typeof each === 'string' && BASE64.test(each),
      )
    );
  }

  defaultMessage(): string {
    return 'must map at most 32 names to base64 values';
  }
}

/** One payload in the JSON form the Temporal UI and CLI send a codec server. */
export class CodecPayloadDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', format: 'byte' },
    example: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' },
  })
  @IsOptional()
  @IsObject()
  @Validate(Base64Map)
  metadata?: Record<string, string>;

  @ApiPropertyOptional({ format: 'byte', description: 'The payload bytes, base64' })
  @IsOptional()
  @IsBase64(undefined, { message: 'must be base64' })
  data?: string;
}

/** The body of `POST /codec/encode` and `/codec/decode`, and of their answers. */
export class CodecPayloadsDto {
  @ApiProperty({ type: [CodecPayloadDto] })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => CodecPayloadDto)
  payloads!: CodecPayloadDto[];
}
