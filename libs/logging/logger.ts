import pino, { Logger } from 'pino';
import { currentLogContext } from './log-context';
import { prettyStream } from './pretty-stream';

/** Paths that must never reach a log line, wherever they appear. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'currentPassword',
  '*.currentPassword',
  'newPassword',
  '*.newPassword',
  'otp',
  '*.otp',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * A logger with secrets redacted, whose every line carries the current log context (the request id in the API; the
 * workflow, activity and turn or file in the worker: see log-context.ts). JSON lines on stdout (or on `destination`);
 * human-readable lines when stdout is a terminal (pipe it, e.g. `| cat`, for JSON).
 */
export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream }): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: currentLogContext,
  };
  if (options.destination) return pino(settings, options.destination);
  return process.stdout.isTTY === true ? pino(settings, prettyStream()) : pino(settings);
}

export type { Logger };
