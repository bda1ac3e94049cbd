import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuthGuard } from '../auth/auth.guard';
import { SessionRevocations } from '../auth/session-revocations';
import { TurnsModule } from '../turns/turns.module';
import { RealtimeAuthenticator } from './realtime-authenticator';
import { RealtimeGateway } from './realtime.gateway';

/** The WebSocket at /ws: live turn events and sending messages, behind the same guards as the HTTP routes. */
@Module({
  imports: [AuthModule, TurnsModule],
  // AuthGuard is the global guard's class, instantiated here to check WebSocket credentials the same way;
  // SessionRevocations is stateless (Redis), a second instance like SecurityModule's.
  providers: [AuthGuard, SessionRevocations, RealtimeAuthenticator, RealtimeGateway],
})
export class RealtimeModule {}
