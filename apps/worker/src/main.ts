import 'reflect-metadata';
import { loadConfig } from '../../../libs/config/load-config';
import { createLogger } from '../../../libs/logging/logger';
import { startWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'gigachat-worker' });
  // The SDK's Runtime handles SIGINT/SIGTERM: it stops polling, lets running tasks finish and `run()` resolves.
  const running = await startWorker(config, logger);
  await running.done;
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  console.error(`[gigachat-worker] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
