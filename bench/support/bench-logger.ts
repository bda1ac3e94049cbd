import pino from 'pino';
import type { AppConfig } from '#libs/config/app-config';
import { createLogger, type Logger } from '#libs/logging/logger';

/**
 * A logger for the services' code run in the bench's own process: at the services' level (so logging costs what it
 * costs them), written where the bench's report is not (the API and the worker write to pipes).
 */
export function benchLogger(config: AppConfig, name: string): Logger {
  return createLogger({
    level: config.logLevel,
    name,
    destination: pino.destination({ dest: '/dev/null', sync: false }),
  });
}
