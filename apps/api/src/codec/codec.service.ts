import { Inject, Injectable } from '@nestjs/common';
import type { Payload } from '@temporalio/common';
import type { AppConfig } from '#libs/config/app-config';
import { ValidationError } from '#libs/errors/app-error';
import { payloadCodec } from '#libs/temporal/data-converter';
import { PayloadDecryptionError, type EncryptionCodec } from '#libs/temporal/encryption-codec';
import { APP_CONFIG } from '../infra/di-symbols';
import type { CodecPayloadDto, CodecPayloadsDto } from './dto/codec-payloads.dto';

/** The payload codec behind the Temporal UI's and CLI's codec endpoint: the same keys the API and workers use. */
@Injectable()
export class CodecService {
  /** Absent with ENCRYPTION_AT_REST=off: payloads are clear, so encode leaves them be and decode opens none. */
  readonly #codec: EncryptionCodec | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.#codec = config.temporal.payloadKeys.length > 0 ? payloadCodec(config.temporal) : undefined;
  }

  async encode(body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    if (!this.#codec) return { payloads: body.payloads };
    return { payloads: (await this.#codec.encode(body.payloads.map(fromJson))).map(toJson) };
  }

  async decode(body: CodecPayloadsDto): Promise<CodecPayloadsDto> {
    if (!this.#codec) return { payloads: body.payloads };
    const payloads = body.payloads.map(fromJson);
    const opened: Payload[] = [];
    // One at a time, so a payload that does not open is named by its index.
    for (const [index, payload] of payloads.entries()) {
      try {
        opened.push(...(await this.#codec.decode([payload])));
      } catch (error) {
        if (!(error instanceof PayloadDecryptionError)) throw error;
        throw new ValidationError(
          [{ field: `payloads.${index}`, message: error.message }],
          'A payload does not decode',
        );
      }
    }
    return { payloads: opened.map(toJson) };
  }
}

function fromJson(payload: CodecPayloadDto): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [
        name,
        new Uint8Array(Buffer.from(value, 'base64')),
      ]),
    ),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

function toJson(payload: Payload): CodecPayloadDto {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array(0)).toString('base64'),
  };
}
