import { IsNull, MoreThan, type EntityManager } from 'typeorm';
import { InvitationEntity } from '../entities/invitation.entity';

export type NewInvitation = Pick<InvitationEntity, 'id' | 'email' | 'role' | 'codeHash' | 'expiresAt'>;

/** Invitations to register (REGISTRATION=invite), found by the hash of their code. */
export class InvitationRepository {
  constructor(private readonly manager: EntityManager) {}

  private get invitations() {
    return this.manager.getRepository(InvitationEntity);
  }

  /** Inserts the invitation and answers the stored row. */
  async create(invitation: NewInvitation): Promise<InvitationEntity> {
    await this.invitations.insert({ ...invitation, acceptedAt: null, acceptedBy: null });
    return this.invitations.findOneByOrFail({ id: invitation.id });
  }

  /** With `lock`, the row stays locked (FOR UPDATE) until the transaction ends: one code, one registration. */
  findByCodeHash(codeHash: string, options: { lock?: boolean } = {}): Promise<InvitationEntity | null> {
    return this.invitations.findOne({
      where: { codeHash },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** Spends the invitation on the account it created; false when it was spent already. */
  async markAccepted(id: string, userId: string): Promise<boolean> {
    const spent = await this.invitations.update(
      { id, acceptedAt: IsNull() },
      { acceptedAt: new Date(), acceptedBy: userId },
    );
    return spent.affected === 1;
  }

  /** Unspent invitations that have not expired, newest first. */
  listOpen(now: Date): Promise<InvitationEntity[]> {
    return this.invitations.find({
      where: { acceptedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }
}
