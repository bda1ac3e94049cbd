import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type SessionRevokedReason = 'logout' | 'refresh_reuse' | 'password_change' | 'user_disabled' | 'user_demoted';

/** A login session. Access tokens carry its id (`sid`); the refresh token is stored only as a hash. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ name: 'refresh_token_hash', type: 'char', length: 64, unique: true })
  refreshTokenHash!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;

  @Index('ix_sessions_revoked')
  @Column({ name: 'revoked_at', type: 'datetime', precision: 3, nullable: true })
  revokedAt!: Date | null;

  /** Why the session ended early: `logout`, `refresh_reuse`, `password_change`… (null while active). */
  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: SessionRevokedReason | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 255, nullable: true })
  userAgent!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
