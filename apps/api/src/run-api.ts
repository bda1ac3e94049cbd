import { ConfigError, loadConfig } from '#libs/config/load-config';
import { createLogger } from '#libs/logging/logger';
import { createApp } from './create-app';

/** The api process, once main.ts has loaded the .env file and started tracing. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'gigachat-api' });
  const app = await createApp(config, logger);
  await app.listen(config.api.port, config.api.host);
  logger.info(
    {
      url: `http://${config.api.host}:${config.api.port}`,
      docs: `http://${config.api.host}:${config.api.port}/api/docs`,
      temporalUi: config.temporal.uiUrl,
    },
    'api listening',
  );
}

export function runApi(): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(`[gigachat-api] ${error.message}`);
    else
      console.error(
        `[gigachat-api] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    process.exit(1);
  });
}
