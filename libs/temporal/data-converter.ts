import type { DataConverter } from '@temporalio/common';
import type { AppConfig } from '../config/app-config';
import { EncryptionCodec } from './encryption-codec';

/** The payload codec every Temporal connection of GigaChat uses (API client, workers, CLIs, replays). */
export function payloadCodec(temporal: Pick<AppConfig['temporal'], 'payloadKeys'>): EncryptionCodec {
  return new EncryptionCodec(temporal.payloadKeys);
}

/**
 * `dataConverter` for `new Client(...)`, `Worker.create(...)` and `Worker.runReplayHistories(...)`. No keys (only with
 * `ENCRYPTION_AT_REST=off`, never in production): no codec, payloads go to Temporal in clear.
 */
export function temporalDataConverter(temporal: Pick<AppConfig['temporal'], 'payloadKeys'>): DataConverter {
  return { payloadCodecs: temporal.payloadKeys.length > 0 ? [payloadCodec(temporal)] : [] };
}
