import { config as loadDotEnv } from 'dotenv';
import { startTracing } from '#libs/telemetry/tracing';

// A .env file in the working directory, if any (real environment variables win): it may turn tracing on.
loadDotEnv({ quiet: true });
// Tracing (when an OTLP endpoint is configured) patches http, mysql2 and ioredis as they are loaded, so it starts
// before the rest of the api is required.
try {
  startTracing('gigachat-api');
} catch (error) {
  console.error(`[gigachat-api] tracing: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('./run-api') as typeof import('./run-api')).runApi();
