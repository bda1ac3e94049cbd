import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SessionRevocations } from '../auth/session-revocations';
import { CodecController } from '../codec/codec.controller';
import { CodecService } from '../codec/codec.service';
import { AdminAuditController } from './admin-audit.controller';
import { AdminAuditService } from './admin-audit.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';

/**
 * The admin routes: users (role, disable, unlock), the audit log and the Temporal codec server. Every route needs the
 * `admin` role.
 */
@Module({
  // AccessTokenCodec: the codec cookie expires with the access token in it.
  imports: [AuthModule],
  controllers: [AdminUsersController, AdminAuditController, CodecController],
  providers: [
    AdminUsersService,
    AdminAuditService,
    CodecService,
    // Stateless (Redis): a second instance beside AuthModule's, so admin actions can end sessions at once.
    SessionRevocations,
  ],
})
export class AdminModule {}
