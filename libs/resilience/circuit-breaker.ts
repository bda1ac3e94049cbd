import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger';
import { CircuitOpenError } from './circuit-open.error';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSnapshot {
  state: CircuitState;
  /** Consecutive failures while closed; failures so far (threshold plus failed probes) while open. */
  failures: number;
  /** When the circuit last opened (epoch ms, Redis clock); absent while closed. */
  openedAt?: number;
}

export interface RedisCircuitBreakerOptions {
  /** Shared by every worker; the breaker's keys live under it (after the client's own `keyPrefix`, if any). */
  redis: Redis;
  /** Prefix for this breaker's keys, e.g. `gigachat:`. */
  keyPrefix: string;
  /** Names the protected dependency, e.g. `websearch` or `llm:openai`; breakers with one name share one state. */
  name: string;
  /** Consecutive failures (across all workers; any success resets the count) that open the circuit. */
  failureThreshold: number;
  /** How long an opened circuit rejects every call before it lets probes through (half-open). */
  cooldownMs: number;
  /** Probes allowed at once while half-open. Default 1. */
  halfOpenMaxProbes?: number;
  /**
   * How long a probe holds its slot. A worker that dies mid-probe frees its slot after this; a probe that takes
   * longer than this lets another probe in. Default 60 000.
   */
  probeLeaseMs?: number;
  /**
   * How long the state is kept without any new failure: the failure count of a closed circuit, and an open circuit
   * this long after its cooldown, are forgotten (the circuit is then closed). Default one hour.
   */
  stateTtlMs?: number;
  /** Warned when Redis cannot answer; `run` then lets calls through rather than failing them. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * What `acquire` hands out: a call admitted while closed, or one of the half-open probes. Pass it back to
 * `recordSuccess`/`recordFailure`/`release` so that late outcomes of calls admitted earlier do not move the circuit.
 */
export interface CircuitPermit {
  readonly kind: 'closed' | 'probe';
  /** The probe's slot id; empty for `closed`. */
  readonly probeId: string;
  /** The open period the probe belongs to (its `openedAt`); empty for `closed`. */
  readonly openedAt: string;
}

// Every script reads the clock from Redis (`TIME`), so workers with skewed clocks still agree on the cooldown.
// KEYS[1] is the state hash {state, failures, openedAt}; KEYS[2] the sorted set of probe slots (member: probe id,
// score: lease end). A missing hash is a closed circuit with no failures.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** ARGV: cooldownMs, maxProbes, probeLeaseMs, probeId. Returns {admitted, isProbe, retryAfterMs, openedAt}. */
const ACQUIRE = `${NOW}
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return {1, 0, 0, ''} end
local openedAt = redis.call('HGET', KEYS[1], 'openedAt')
local reopenAt = tonumber(openedAt) + tonumber(ARGV[1])
if now < reopenAt then return {0, 0, reopenAt - now, openedAt} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local lease = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], lease)
  return {1, 1, 0, openedAt}
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {0, 1, math.max(1, tonumber(first[2]) - now), openedAt}
`;

/**
 * ARGV: kind ('closed' | 'probe' | 'none'), probeId, openedAt of the permit, cooldownMs.
 * Closes the circuit after a probe of the current open period (or, without a permit, any success after the cooldown);
 * resets the failure count of a closed circuit. Late successes of calls admitted before the circuit opened are ignored.
 * Returns the state afterwards.
 */
const SUCCESS = `${NOW}
local kind = ARGV[1]
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then
  if kind == 'probe' then redis.call('ZREM', KEYS[2], ARGV[2]) end
  if tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') > 0 then redis.call('DEL', KEYS[1]) end
  return 'closed'
end
local openedAt = redis.call('HGET', KEYS[1], 'openedAt')
local close = false
if kind == 'probe' then
  close = openedAt == ARGV[3]
  if not close then redis.call('ZREM', KEYS[2], ARGV[2]) end
elseif kind == 'none' then
  close = now >= tonumber(openedAt) + tonumber(ARGV[4])
end
if close then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 'closed'
end
return 'open'
`;

/**
 * ARGV: kind ('closed' | 'probe' | 'none'), probeId, openedAt of the permit, cooldownMs, failureThreshold, stateTtlMs.
 * Counts a failure of a closed circuit and opens it at the threshold; re-opens a half-open circuit after a failed
 * probe (or, without a permit, any failure after the cooldown). Late failures of calls admitted before the circuit
 * opened neither count nor extend the cooldown. Returns the state afterwards.
 */
const FAILURE = `${NOW}
local kind = ARGV[1]
local cooldown = tonumber(ARGV[4])
local ttl = tonumber(ARGV[6])
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then
  if kind == 'probe' then redis.call('ZREM', KEYS[2], ARGV[2]) end
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  if failures >= tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[1], 'state', 'open', 'openedAt', now)
    redis.call('DEL', KEYS[2])
    redis.call('PEXPIRE', KEYS[1], cooldown + ttl)
    return 'open'
  end
  redis.call('HSET', KEYS[1], 'state', 'closed')
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 'closed'
end
local openedAt = redis.call('HGET', KEYS[1], 'openedAt')
local reopen = false
if kind == 'probe' then
  reopen = openedAt == ARGV[3]
  if not reopen then redis.call('ZREM', KEYS[2], ARGV[2]) end
elseif kind == 'none' then
  reopen = now >= tonumber(openedAt) + cooldown
end
if reopen then
  redis.call('HINCRBY', KEYS[1], 'failures', 1)
  redis.call('HSET', KEYS[1], 'openedAt', now)
  redis.call('DEL', KEYS[2])
  redis.call('PEXPIRE', KEYS[1], cooldown + ttl)
end
return 'open'
`;

/** ARGV: probeId. Frees a probe slot without judging the dependency. */
const RELEASE = `redis.call('ZREM', KEYS[2], ARGV[1]) return 1`;

/** ARGV: cooldownMs. Returns {state, failures, openedAt}. */
const STATE = `${NOW}
local fields = redis.call('HMGET', KEYS[1], 'state', 'failures', 'openedAt')
local failures = tonumber(fields[2] or '0')
if fields[1] ~= 'open' then return {'closed', failures, ''} end
if now < tonumber(fields[3]) + tonumber(ARGV[1]) then return {'open', failures, fields[3]} end
return {'half_open', failures, fields[3]}
`;

/**
 * A circuit breaker whose state lives in Redis, so every worker and API instance sees the same circuit:
 *
 * - **closed**: calls go through; `failureThreshold` consecutive failures (counted across all instances, reset by any
 *   success) open it.
 * - **open**: calls are rejected at once with {@link CircuitOpenError}, without touching the dependency, for
 *   `cooldownMs`.
 * - **half-open** (an open circuit whose cooldown is over): at most `halfOpenMaxProbes` calls at once are let through
 *   as probes, each claiming a slot atomically; a probe's success closes the circuit, its failure re-opens it for
 *   another cooldown.
 *
 * Every transition is one Lua script (atomic), timed by the Redis clock; every key has a TTL.
 */
export class RedisCircuitBreaker {
  readonly name: string;
  private readonly redis: Redis;
  private readonly stateKey: string;
  private readonly probesKey: string;
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly halfOpenMaxProbes: number;
  private readonly probeLeaseMs: number;
  private readonly stateTtlMs: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;

  constructor(options: RedisCircuitBreakerOptions) {
    if (options.name === '') throw new Error('circuit breaker name must not be empty');
    this.name = options.name;
    this.redis = options.redis;
    // The hash tag keeps both keys on one Redis Cluster slot, which multi-key scripts need.
    this.stateKey = `${options.keyPrefix}circuit:{${options.name}}`;
    this.probesKey = `${options.keyPrefix}circuit:{${options.name}}:probes`;
    this.failureThreshold = positiveInteger('failureThreshold', options.failureThreshold);
    this.cooldownMs = positiveInteger('cooldownMs', options.cooldownMs);
    this.halfOpenMaxProbes = positiveInteger('halfOpenMaxProbes', options.halfOpenMaxProbes ?? 1);
    this.probeLeaseMs = positiveInteger('probeLeaseMs', options.probeLeaseMs ?? 60_000);
    this.stateTtlMs = positiveInteger('stateTtlMs', options.stateTtlMs ?? 3_600_000);
    this.logger = options.logger;
  }

  /**
   * Calls `fn` if the circuit lets it, and records the outcome. Errors for which `isFailure` says false (default:
   * every error is a failure) are the caller's problem, not the dependency's: they neither count nor close the
   * circuit. Throws {@link CircuitOpenError} without calling `fn` when the circuit is open. When Redis cannot answer,
   * `fn` is called anyway (and a warning logged): a Redis outage must not become an outage of the dependency.
   */
  async run<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    let permit: CircuitPermit | undefined;
    try {
      permit = await this.acquire();
    } catch (error) {
      if (error instanceof CircuitOpenError) throw error;
      this.warn(error, 'circuit breaker unavailable; call let through');
    }
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (permit) {
        const held = permit;
        await this.quietly(() => (isFailure(error) ? this.recordFailure(held) : this.release(held)));
      }
      throw error;
    }
    if (permit) {
      const held = permit;
      await this.quietly(() => this.recordSuccess(held));
    }
    return result;
  }

  /** Admits one call (or claims a probe slot), or throws {@link CircuitOpenError}. For manual control. */
  async acquire(): Promise<CircuitPermit> {
    const probeId = randomUUID();
    const [admitted, isProbe, retryAfterMs, openedAt] = (await this.redis.eval(
      ACQUIRE,
      2,
      this.stateKey,
      this.probesKey,
      this.cooldownMs,
      this.halfOpenMaxProbes,
      this.probeLeaseMs,
      probeId,
    )) as [number, number, number, string];
    if (admitted !== 1) throw new CircuitOpenError(this.name, retryAfterMs, isProbe === 1 ? 'half_open' : 'open');
    return isProbe === 1 ? { kind: 'probe', probeId, openedAt } : { kind: 'closed', probeId: '', openedAt: '' };
  }

  /**
   * Records a success. With the permit of the call, a late success of a call admitted before the circuit opened is
   * ignored; without one, any success after the cooldown closes the circuit.
   */
  async recordSuccess(permit?: CircuitPermit): Promise<void> {
    await this.redis.eval(SUCCESS, 2, this.stateKey, this.probesKey, ...this.permitArgs(permit), this.cooldownMs);
  }

  /**
   * Records a failure. With the permit of the call, a late failure of a call admitted before the circuit opened
   * neither counts nor extends the cooldown; without one, a failure after the cooldown re-opens the circuit.
   */
  async recordFailure(permit?: CircuitPermit): Promise<void> {
    await this.redis.eval(
      FAILURE,
      2,
      this.stateKey,
      this.probesKey,
      ...this.permitArgs(permit),
      this.cooldownMs,
      this.failureThreshold,
      this.stateTtlMs,
    );
  }

  /** Gives a probe slot back without judging the dependency (the call failed for the caller's own reasons). */
  async release(permit: CircuitPermit): Promise<void> {
    if (permit.kind !== 'probe') return;
    await this.redis.eval(RELEASE, 2, this.stateKey, this.probesKey, permit.probeId);
  }

  async state(): Promise<CircuitSnapshot> {
    const [state, failures, openedAt] = (await this.redis.eval(STATE, 1, this.stateKey, this.cooldownMs)) as [
      CircuitState,
      number,
      string,
    ];
    return openedAt === '' ? { state, failures } : { state, failures, openedAt: Number(openedAt) };
  }

  private permitArgs(permit: CircuitPermit | undefined): [string, string, string] {
    return permit ? [permit.kind, permit.probeId, permit.openedAt] : ['none', '', ''];
  }

  private async quietly(record: () => Promise<void>): Promise<void> {
    try {
      await record();
    } catch (error) {
      this.warn(error, 'circuit breaker could not record an outcome');
    }
  }

  private warn(error: unknown, message: string): void {
    this.logger?.warn({ err: error instanceof Error ? error.message : String(error), circuit: this.name }, message);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}
