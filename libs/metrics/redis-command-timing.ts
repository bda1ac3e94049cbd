import type { Redis } from 'ioredis';

/**
 * The Redis commands GigaChat sends (its own calls, Lua scripts, and what ioredis sends to connect), each its own label;
 * any other is `other`. A blocking read — XREAD/XREADGROUP with BLOCK — is `xread_block`/`xreadgroup_block`, and any
 * always-blocking list or sorted-set pop is `other_block`, so their long waits never land in a latency that should be
 * short.
 */
export const REDIS_COMMANDS = [
  'get',
  'set',
  'del',
  'exists',
  'expire',
  'pexpire',
  'pttl',
  'incr',
  'mget',
  'hgetall',
  'hincrby',
  'eval',
  'evalsha',
  'script',
  'xadd',
  'xrange',
  'xrevrange',
  'xread',
  'xread_block',
  'xreadgroup',
  'xreadgroup_block',
  'keys',
  'ping',
  'multi',
  'exec',
  'info',
  'select',
  'client',
  'quit',
  'other_block',
  'other',
] as const;
export type RedisCommandLabel = (typeof REDIS_COMMANDS)[number];

const KNOWN: ReadonlySet<string> = new Set(REDIS_COMMANDS);
const ALWAYS_BLOCKING: ReadonlySet<string> = new Set([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
]);

/** What is told about each command: its label, how long until its reply settled, and whether it failed. */
export type CommandObserver = (command: RedisCommandLabel, seconds: number, failed: boolean) => void;

/** Each wrapped connection's observers (two processes' metrics may share a connection in tests). */
const connectionObservers = new WeakMap<object, CommandObserver[]>();
// ioredis sends a command again after a reconnect or from its offline queue: it is timed once, from its first send.
const timed = new WeakSet<object>();

/** The label for a command by its name and arguments. */
export function redisCommandLabel(name: string, args: readonly unknown[]): RedisCommandLabel {
  const command = name.toLowerCase();
  if (command === 'xread' || command === 'xreadgroup') {
    for (const arg of args) {
      if (typeof arg === 'string' && arg.length === 5 && arg.toLowerCase() === 'block') {
        return command === 'xread' ? 'xread_block' : 'xreadgroup_block';
      }
    }
    return command;
  }
  if (KNOWN.has(command)) return command as RedisCommandLabel;
  return ALWAYS_BLOCKING.has(command) ? 'other_block' : 'other';
}

/**
 * Times every command `redis` sends, until its reply (or failure) settles, and those of every connection later made
 * from it with `.duplicate()`. Wrapping twice is a no-op. The observer's failures are swallowed: a metric never breaks
 * a command.
 */
export function timeRedisCommands(redis: Redis, observe: CommandObserver): void {
  const observers = connectionObservers.get(redis);
  if (observers) {
    if (!observers.includes(observe)) observers.push(observe);
    return;
  }
  watch(redis, [observe]);
}

function watch(redis: Redis, observers: CommandObserver[]): void {
  connectionObservers.set(redis, observers);
  const sendCommand = redis.sendCommand.bind(redis);
  redis.sendCommand = function (...args: Parameters<Redis['sendCommand']>) {
    const started = performance.now();
    const command = args[0];
    const sent = sendCommand(...args);
    if (!timed.has(command)) {
      timed.add(command);
      const label = redisCommandLabel(command.name, command.args);
      // What sendCommand returns is the command's own promise; a handler on both sides adds no unhandled rejection.
      command.promise.then(
        () => report(observers, label, started, false),
        () => report(observers, label, started, true),
      );
    }
    return sent;
  };
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = function (...args: Parameters<Redis['duplicate']>) {
    const copy = duplicate(...args);
    if (!connectionObservers.has(copy)) watch(copy, observers);
    return copy;
  };
}

function report(observers: CommandObserver[], label: RedisCommandLabel, started: number, failed: boolean): void {
  const seconds = (performance.now() - started) / 1000;
  for (const observe of observers) {
    try {
      observe(label, seconds, failed);
    } catch {
      // A metric that cannot be recorded is dropped; the command's own outcome is what matters.
    }
  }
}
