import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, QueryFailedError } from 'typeorm';
import { AccessTokenCodec } from '../../../../libs/auth/access-token';
import { generateOpaqueToken, hashOpaqueToken } from '../../../../libs/auth/opaque-token';
import { PasswordHasher } from '../../../../libs/auth/password-hasher';
import { checkPasswordPolicy } from '../../../../libs/auth/password-policy';
import type { AppConfig } from '../../../../libs/config/app-config';
import { SessionEntity } from '../../../../libs/db/entities/session.entity';
import { UserEntity } from '../../../../libs/db/entities/user.entity';
import { AppError, NotFoundError, UnauthorizedError, ValidationError } from '../../../../libs/errors/app-error';
import { AuditService } from '../audit/audit.service';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATA_SOURCE } from '../infra/tokens';
import type { LoginDto } from './dto/login.dto';
import type { RegisterDto } from './dto/register.dto';
import type { Principal } from './principal';
import { SessionRevocations } from './session-revocations';
import { toUserView, UserView } from './user.view';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

const REFRESH_TOKEN_PREFIX = 'gcr_';

@Injectable()
export class AuthService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly passwords: PasswordHasher,
    private readonly tokens: AccessTokenCodec,
    private readonly revocations: SessionRevocations,
    private readonly audit: AuditService,
  ) {}

  /** Creates an account. The very first account of an installation becomes its admin. */
  async register(dto: RegisterDto, client: ClientInfo): Promise<UserView> {
    const problems = checkPasswordPolicy(dto.password);
    if (problems.length > 0) throw new ValidationError(problems.map((message) => ({ field: 'password', message })));
    const passwordHash = await this.passwords.hash(dto.password);
    try {
      const user = await this.db.transaction(async (tx) => {
        const repo = tx.getRepository(UserEntity);
        const isFirst = (await repo.count()) === 0;
        const created = repo.create({
          id: randomUUID(),
          email: dto.email,
          displayName: dto.displayName,
          passwordHash,
          role: isFirst ? 'admin' : 'user',
        });
        await repo.insert(created);
        await this.audit.record(
          { actorId: created.id, action: 'user.registered', targetType: 'user', targetId: created.id },
          client,
          tx,
        );
        return repo.findOneByOrFail({ id: created.id });
      });
      return toUserView(user);
    } catch (error) {
      if (isDuplicateKey(error)) throw new AppError('email_taken', 409, 'An account with this email already exists');
      throw error;
    }
  }

  /** Same answer and similar timing for an unknown email and a wrong password. */
  async login(dto: LoginDto, client: ClientInfo): Promise<TokenPair> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ email: dto.email });
    const valid = user
      ? await this.passwords.verify(dto.password, user.passwordHash)
      : await this.passwords.verifyAgainstDummy(dto.password);
    if (!user || !valid || user.disabled) {
      await this.audit.record(
        {
          actorId: user?.id ?? null,
          action: 'auth.login_failed',
          targetType: 'user',
          targetId: user?.id,
          metadata: { reason: !user ? 'unknown_email' : user.disabled && valid ? 'disabled' : 'wrong_password' },
        },
        client,
      );
      throw new AppError('invalid_credentials', 401, 'The email or password is not correct');
    }
    const pair = await this.openSession(user, client);
    await this.audit.record(
      { actorId: user.id, action: 'auth.login', targetType: 'session', targetId: pair.sessionId },
      client,
    );
    return pair.tokens;
  }

  /** Rotates the refresh token: the presented one stops working, a new pair is returned. */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const sessions = this.db.getRepository(SessionEntity);
    const session = await sessions.findOneBy({ refreshTokenHash: hashOpaqueToken(refreshToken) });
    if (!session || session.revokedAt || session.expiresAt.getTime() <= Date.now()) {
      throw new UnauthorizedError('The refresh token is not valid; log in again');
    }
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: session.userId });
    if (!user || user.disabled) throw new UnauthorizedError('The refresh token is not valid; log in again');
    const next = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    const rotated = await sessions.update(
      { id: session.id, refreshTokenHash: session.refreshTokenHash, revokedAt: IsNull() },
      { refreshTokenHash: next.hash, ip: client.ip, userAgent: client.userAgent },
    );
    if (rotated.affected !== 1) throw new UnauthorizedError('The refresh token is not valid; log in again');
    const access = await this.tokens.issue({ sub: user.id, sid: session.id, role: user.role });
    return this.pair(access.token, next.token);
  }

  async logout(principal: Principal, client: ClientInfo): Promise<void> {
    await this.db.getRepository(SessionEntity).update({ id: principal.sessionId }, { revokedAt: new Date() });
    await this.revocations.revoke(principal.sessionId);
    await this.audit.record(
      { actorId: principal.userId, action: 'auth.logout', targetType: 'session', targetId: principal.sessionId },
      client,
    );
  }

  async me(principal: Principal): Promise<UserView> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: principal.userId });
    if (!user) throw new NotFoundError('The user');
    return toUserView(user);
  }

  private async openSession(user: UserEntity, client: ClientInfo): Promise<{ sessionId: string; tokens: TokenPair }> {
    const refresh = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    const sessionId = randomUUID();
    await this.db.getRepository(SessionEntity).insert({
      id: sessionId,
      userId: user.id,
      refreshTokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTokenTtlSeconds * 1000),
      revokedAt: null,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    const access = await this.tokens.issue({ sub: user.id, sid: sessionId, role: user.role });
    return { sessionId, tokens: this.pair(access.token, refresh.token) };
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.auth.accessTokenTtlSeconds };
  }
}

export function isDuplicateKey(error: unknown): boolean {
  return (
    error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === 'ER_DUP_ENTRY'
  );
}
