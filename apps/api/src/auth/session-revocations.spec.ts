import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { createLogger } from '#libs/logging/logger';
import { SessionRevocations } from './session-revocations';
import { InMemoryIdentity, TEST_CONFIG } from './testing/in-memory-identity';

/** The few commands SessionRevocations sends, over a map; `down` makes every command fail as ioredis does offline. */
class FakeRedis extends EventEmitter {
  readonly keys = new Map<string, string>();
  down = false;
  get status(): string {
    return this.down ? 'reconnecting' : 'ready';
  }

  async mget(...keys: string[]): Promise<(string | null)[]> {
    this.check();
    return keys.map((key) => this.keys.get(key) ?? null);
  }

  multi() {
    const sets: [string, string][] = [];
    const batch = {
      set: (key: string, value: string) => {
        sets.push([key, value]);
        return batch;
      },
      exec: async () => {
        this.check();
        for (const [key, value] of sets) this.keys.set(key, value);
        return sets.map(() => [null, 'OK']);
      },
    };
    return batch;
  }

  goDown(): void {
    this.down = true;
    this.emit('close');
  }

  comeBack(): void {
    this.down = false;
    this.emit('ready');
  }

  private check(): void {
    if (this.down) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
  }
}

describe('SessionRevocations', () => {
  let store: InMemoryIdentity;
  let redis: FakeRedis;
  let revocations: SessionRevocations;
  let lookups: number;

  beforeEach(() => {
    store = new InMemoryIdentity();
    redis = new FakeRedis();
    const db = store.database();
    lookups = 0;
    const findById = db.sessions.findById.bind(db.sessions);
    db.sessions.findById = (id) => {
      lookups += 1;
      return findById(id);
    };
    revocations = new SessionRevocations(
      redis as unknown as Redis,
      db,
      TEST_CONFIG,
      createLogger({ level: 'silent', name: 'spec' }),
    );
  });

  const open = async (id: string) => {
    await store.database().sessions.open({
      id,
      userId: 'u-1',
      refreshTokenHash: id.padEnd(64, '0'),
      expiresAt: new Date(Date.now() + 86_400_000),
      ip: null,
      userAgent: null,
    });
  };
  /** Revokes as the services do: MySQL first, then Redis. */
  const revoke = async (id: string) => {
    await store.database().sessions.revoke(id, 'logout');
    await revocations.revoke(id);
  };
  /** Lets the background copy finish. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('asks MySQL until it has copied the recent revocations into Redis, then Redis alone', async () => {
    await open('s-live');
    await open('s-old');
    await store.database().sessions.revoke('s-old', 'logout'); // in MySQL only, as before a restart
    expect(await revocations.isRevoked('s-old')).toBe(true);
    expect(lookups).toBe(1);
    await settle();
    expect(redis.keys.has('revoked-session:s-old')).toBe(true);
    expect(redis.keys.has('revoked-sessions:copied')).toBe(true);

    expect([await revocations.isRevoked('s-old'), await revocations.isRevoked('s-live')]).toEqual([true, false]);
    expect(lookups).toBe(1);
  });

  it('answers from MySQL when Redis lost its keys, and copies them back', async () => {
    await open('s-1');
    await revocations.isRevoked('s-1');
    await settle();
    await revoke('s-1');
    redis.keys.clear(); // FLUSHALL, or a restart without persistence
    expect(await revocations.isRevoked('s-1')).toBe(true);
    await settle();
    expect(redis.keys.has('revoked-session:s-1')).toBe(true);
    const before = lookups;
    expect(await revocations.isRevoked('s-1')).toBe(true);
    expect(lookups).toBe(before);
  });

  it('takes a revocation while Redis is down (MySQL holds it), refuses it meanwhile, and copies it in once back', async () => {
    await open('s-1');
    await open('s-2');
    await revocations.isRevoked('s-1');
    await settle();
    redis.goDown();
    await expect(revoke('s-1')).resolves.toBeUndefined();
    expect([await revocations.isRevoked('s-1'), await revocations.isRevoked('s-2')]).toEqual([true, false]);

    redis.comeBack(); // the keys survived the outage, but not the revocation made during it: copied now
    await settle();
    expect(redis.keys.has('revoked-session:s-1')).toBe(true);
    const before = lookups;
    expect([await revocations.isRevoked('s-1'), await revocations.isRevoked('s-2')]).toEqual([true, false]);
    expect(lookups).toBe(before);
  });

  it('does not believe a copy that a lost connection interrupted', async () => {
    await open('s-1');
    const copying = revocations.isRevoked('s-1'); // starts the copy
    redis.emit('close'); // before the copy finishes
    await copying;
    await settle();
    const before = lookups;
    await revocations.isRevoked('s-1');
    expect(lookups).toBe(before + 1);
  });

  it('refuses a session MySQL does not know', async () => {
    expect(await revocations.isRevoked('s-unknown')).toBe(true);
  });
});
