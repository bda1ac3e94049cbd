import type { Logger } from '#libs/logging/logger';

/** A logger that writes nothing, for units that take one. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
} as unknown as Logger;
