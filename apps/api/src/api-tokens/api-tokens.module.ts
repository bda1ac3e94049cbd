import { Global, Module } from '@nestjs/common';
import { ApiTokenAuthenticator } from './api-token-authenticator';
import { ApiTokensController } from './api-tokens.controller';
import { ApiTokensService } from './api-tokens.service';

/** Scoped API tokens. Global, so the AuthGuard (in AuthModule) can authenticate `gct_…` bearer tokens. */
@Global()
@Module({
  controllers: [ApiTokensController],
  providers: [ApiTokensService, ApiTokenAuthenticator],
  exports: [ApiTokenAuthenticator],
})
export class ApiTokensModule {}
