import { config as loadDotEnv } from 'dotenv';
import 'reflect-metadata';
import { ConfigError, loadConfig } from '#libs/config/load-config';
import { createLogger } from '#libs/logging/logger';
import { startWorker } from './worker';

async function main(): Promise<void> {
  loadDotEnv({ quiet: true }); // a .env file in the working directory, if any; real environment variables win
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'gigachat-worker' });
  // The SDK's Runtime handles SIGINT/SIGTERM: it stops polling, lets running tasks finish and `run()` resolves.
  const running = await startWorker(config, logger);
  await running.done;
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`[gigachat-worker] ${error.message}`);
  else
    console.error(
      `[gigachat-worker] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  process.exit(1);
});
