import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A refresh token a session has already spent (rotated away), kept only as its SHA-256 hash. Presenting one again
 * means the token was copied: the session is revoked. Rows go with their session (ON DELETE CASCADE).
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Index()
  @Column({ name: 'session_id', type: 'char', length: 36 })
  sessionId!: string;

  @Column({ name: 'spent_at', type: 'datetime', precision: 3 })
  spentAt!: Date;
}
