import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ConversationsModule } from './conversations/conversations.module';
import { FilesModule } from './files/files.module';
import { HealthController } from './health/health.controller';
import { InfraModule, InfraOptions } from './infra/infra.module';
import { MessagesModule } from './messages/messages.module';
import { SearchModule } from './search/search.module';
import { RealtimeModule } from './realtime/realtime.module';
import { TurnEventHubModule } from './realtime/turn-event-hub.module';
import { ModelsModule } from './models/models.module';
import { ToolsModule } from './tools/tools.module';
import { McpServersModule } from './mcp-servers/mcp-servers.module';
import { MetricsModule } from './metrics/metrics.module';
import { OpenAiModule } from './openai/openai.module';
import { ReplaysModule } from './replays/replays.module';
import { SecurityModule } from './security/security.module';
import { ApiTokensModule } from './api-tokens/api-tokens.module';
import { TurnsModule } from './turns/turns.module';

@Module({})
export class AppModule {
  static forRoot(options: InfraOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(options),
        MetricsModule,
        AuditModule,
        ModelsModule,
        ToolsModule,
        McpServersModule,
        SecurityModule,
        AdminModule,
        ApiTokensModule,
        AuthModule,
        ConversationsModule,
        TurnEventHubModule,
        TurnsModule,
        MessagesModule,
        SearchModule,
        RealtimeModule,
        FilesModule,
        ReplaysModule,
        OpenAiModule,
      ],
      controllers: [HealthController],
    };
  }
}
