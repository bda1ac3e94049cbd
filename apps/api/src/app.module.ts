import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConversationsModule } from './conversations/conversations.module';
import { HealthController } from './health/health.controller';
import { InfraModule, InfraOptions } from './infra/infra.module';
import { SecurityModule } from './security/security.module';
import { TokensModule } from './tokens/tokens.module';
import { TurnsModule } from './turns/turns.module';

@Module({})
export class AppModule {
  static forRoot(options: InfraOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(options),
        AuditModule,
        SecurityModule,
        TokensModule,
        AuthModule,
        ConversationsModule,
        TurnsModule,
      ],
      controllers: [HealthController],
    };
  }
}
