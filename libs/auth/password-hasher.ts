import { createHmac, randomBytes } from 'node:crypto';
import * as bcrypt from 'bcrypt';
import { availableParallelism } from 'node:os';
import { ConcurrencyLimit } from './concurrency-limit';

const MIN_COST = 4;
const MAX_COST = 31;
const BCRYPT_BASE64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * bcrypt over a peppered pre-hash: bcrypt(base64(HMAC-SHA256(pepper, NFC(password)))).
 *
 * The pre-hash is 44 ASCII characters, so passwords past bcrypt's 72-byte limit still count in full and a
 * stolen database alone cannot be brute-forced without the pepper. The native bcrypt runs on libuv's thread
 * pool, so hashing does not block the event loop.
 */
export class PasswordHasher {
  private readonly dummyHash: string;
  private readonly slots: ConcurrencyLimit;

  /**
   * `maxConcurrent` bounds the hashes computed at once (default: all cores but one), so a burst of logins queues
   * instead of starving the event loop of CPU.
   */
  constructor(
    private readonly pepper: string,
    private readonly cost = 12,
    maxConcurrent = Math.max(1, availableParallelism() - 1),
  ) {
    this.slots = new ConcurrencyLimit(maxConcurrent);
    if (typeof pepper !== 'string' || pepper.length === 0) throw new Error('PasswordHasher needs a non-empty pepper');
    if (!Number.isInteger(cost) || cost < MIN_COST || cost > MAX_COST) {
      throw new Error(`bcrypt cost must be an integer from ${MIN_COST} to ${MAX_COST}, got ${cost}`);
    }
    // A well-formed hash that matches no password: comparing against it costs exactly one bcrypt at `cost`.
    this.dummyHash = bcrypt.genSaltSync(cost) + randomBcryptChars(31);
  }

  hash(password: string): Promise<string> {
    const prehashed = this.prehash(password);
    return this.slots.run(() => bcrypt.hash(prehashed, this.cost));
  }

  /** False for a wrong password and for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean> {
    const prehashed = this.prehash(password);
    return this.slots.run(() => bcrypt.compare(prehashed, hash));
  }

  /** Spends the time of a real `verify` and resolves false: use it when no account matches, so timing does not tell. */
  async verifyAgainstDummy(password: string): Promise<false> {
    const prehashed = this.prehash(password);
    await this.slots.run(() => bcrypt.compare(prehashed, this.dummyHash));
    return false;
  }

  private prehash(password: string): string {
    if (typeof password !== 'string') throw new TypeError('password must be a string');
    return createHmac('sha256', this.pepper).update(password.normalize('NFC'), 'utf8').digest('base64');
  }
}

function randomBcryptChars(count: number): string {
  return Array.from(randomBytes(count), (byte) => BCRYPT_BASE64[byte % BCRYPT_BASE64.length]).join('');
}
