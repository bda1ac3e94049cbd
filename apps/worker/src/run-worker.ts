import 'reflect-metadata';
import { ConfigError, loadConfig } from '#libs/config/load-config';
import { createLogger } from '#libs/logging/logger';
import { shutdownTracing } from '#libs/telemetry/tracing';
import { startWorker } from './worker';

/** The worker process, once main.ts has loaded the .env file and started tracing. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'gigachat-worker' });
  // The SDK's Runtime handles SIGINT/SIGTERM: it stops polling, lets running tasks finish and `run()` resolves.
  const running = await startWorker(config, logger);
  await running.done;
  await shutdownTracing(); // the last spans, when tracing is on
  logger.info('worker stopped');
}

export function runWorker(): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(`[gigachat-worker] ${error.message}`);
    else
      console.error(
        `[gigachat-worker] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    process.exit(1);
  });
}
