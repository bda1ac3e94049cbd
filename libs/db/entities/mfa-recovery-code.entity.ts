import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A two-factor recovery code, kept only as the SHA-256 of its canonical form. Single use: `used_at` is set by a
 * conditional UPDATE, so two requests with one code cannot both succeed. Rows go with their user (ON DELETE CASCADE).
 */
@Entity({ name: 'mfa_recovery_codes' })
export class MfaRecoveryCodeEntity {
  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @PrimaryColumn({ name: 'code_hash', type: 'char', length: 64 })
  codeHash!: string;

  @Column({ name: 'used_at', type: 'datetime', precision: 3, nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
