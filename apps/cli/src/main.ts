import { config as loadDotEnv } from 'dotenv';
import { shutdownTracing, startTracing } from '#libs/telemetry/tracing';

// The operator CLI's entry: tracing (when an OTLP endpoint is configured, from the environment or a .env file) starts
// before the commands' modules load, since it patches mysql2, ioredis and http as they are required; each command is
// then one span, and the workflows it starts join its trace. The spans are flushed before the process exits.
loadDotEnv({ quiet: true });
try {
  startTracing('gigachat-cli');
} catch (error) {
  console.error(`gigachat: tracing: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('./run-cli') as typeof import('./run-cli');
void main(process.argv.slice(2))
  .catch((error: unknown) => {
    console.error(error);
    return 1;
  })
  .then(async (code) => {
    await shutdownTracing().catch(() => undefined);
    process.exit(code);
  });
