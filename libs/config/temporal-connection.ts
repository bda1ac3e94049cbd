import type { AppConfig } from './app-config';

/** How the API's client and the worker reach Temporal; both SDK connection types take exactly these options. */
export interface TemporalConnectionOptions {
  address: string;
  /** Off (`false`) for a plain local frontend; `true` or certificates for a secured cluster or Temporal Cloud. */
  tls: boolean | NonNullable<AppConfig['temporal']['tls']>;
  apiKey?: string;
}

/** The connection options of `Connection.connect` (API) and `NativeConnection.connect` (worker), from the config. */
export function temporalConnectionOptions(temporal: AppConfig['temporal']): TemporalConnectionOptions {
  return {
    address: temporal.address,
    tls: temporal.tls ?? false,
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
  };
}
