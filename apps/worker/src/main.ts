import { config as loadDotEnv } from 'dotenv';
import { startTracing } from '#libs/telemetry/tracing';

// A .env file in the working directory, if any (real environment variables win): it may turn tracing on.
loadDotEnv({ quiet: true });
// Tracing (when an OTLP endpoint is configured) patches http, mysql2 and ioredis as they are loaded, so it starts
// before the rest of the worker is required.
try {
  startTracing('gigachat-worker');
} catch (error) {
  console.error(`[gigachat-worker] tracing: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('./run-worker') as typeof import('./run-worker')).runWorker();
