import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { UserRole } from './user.entity';

/**
 * An invitation to register one address (REGISTRATION=invite), made by an operator with `gigachat invite`. The code is
 * shown once and stored only as its SHA-256 hash; it is spent by the registration that uses it.
 */
@Entity({ name: 'invitations' })
export class InvitationEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  /** Stored lower-cased: the only address that may register with the code. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  /** The role the new account gets. */
  @Column({ type: 'enum', enum: ['user', 'admin'], default: 'user' })
  role!: UserRole;

  @Column({ name: 'code_hash', type: 'char', length: 64, unique: true })
  codeHash!: string;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt!: Date;

  @Column({ name: 'accepted_at', type: 'datetime', precision: 3, nullable: true })
  acceptedAt!: Date | null;

  /** The account it created (kept after that account is deleted, as the audit log keeps ids). */
  @Column({ name: 'accepted_by', type: 'char', length: 36, nullable: true })
  acceptedBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}
