import { Writable } from 'node:stream';

const LEVEL_COLOURS: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields every line has, shown in the line's head rather than among its details. */
const HEAD = new Set(['time', 'level', 'msg', 'service', 'name', 'pid', 'hostname']);

/**
 * Human-readable log lines for a terminal: `12:03:04.512 INFO  api  request  requestId=… status=200`. Pino writes
 * JSON lines into it; a line that is not JSON passes through as it is. Only used when stdout is a terminal (a
 * developer's console); pipes, files and containers get the JSON lines.
 */
export function prettyStream(out: NodeJS.WritableStream = process.stdout, colour = true): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() !== '') out.write(`${prettyLine(text, colour)}\n`);
      }
      done();
    },
  });
}

/** One pino JSON line as a human reads it. */
export function prettyLine(text: string, colour = true): string {
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const asText = (value: unknown) =>
    typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  const level = asText(line.level) || 'info';
  const time = typeof line.time === 'string' ? line.time.slice(11, 23) : '';
  const paint = (code: string, value: string) => (colour ? `${code}${value}${RESET}` : value);
  const details = Object.entries(line)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return [
    paint(DIM, time),
    paint(LEVEL_COLOURS[level] ?? '', level.toUpperCase().padEnd(5)),
    asText(line.service),
    asText(line.msg),
    details ? paint(DIM, details) : '',
  ]
    .filter(Boolean)
    .join('  ');
}
