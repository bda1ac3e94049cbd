import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '#libs/config/app-config';
import type { Logger } from '#libs/logging/logger';
import { AppModule } from './app.module';
import { codecCors } from './codec/codec-cors';
import { ProblemFilter } from './common/problem.filter';
import { requestPipeline } from './common/request-pipeline.middleware';
import { createValidationPipe } from './common/validation.pipe';
import { NestPinoLogger } from './nest-logger';
import { webClient } from './web/web-client';
import { ApiMetrics } from '#libs/metrics/metrics';
import { httpMetrics } from './metrics/http-metrics.middleware';

/** Builds the HTTP application exactly as production runs it; tests use the same function. */
export async function createApp(config: AppConfig, logger: Logger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, logger }), {
    bodyParser: false,
    logger: new NestPinoLogger(logger),
    abortOnError: false,
  });
  // Which proxies may name the client (X-Forwarded-For): rate limits, lockout and the audit log key on that address.
  app.set('trust proxy', config.api.trustProxy);
  app.disable('x-powered-by');
  app.use(httpMetrics(app.get(ApiMetrics)));
  app.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  // Before the request pipeline: the Temporal UI's preflights to the codec routes end here.
  app.use(codecCors(config.temporal.uiOrigins));
  app.use(...requestPipeline({ bodyLimitBytes: config.api.bodyLimitBytes, logger }));
  // The browser client at `/` (dist/web): middleware, not routes, so the API's route table stays the API's.
  app.use(webClient());
  if (config.api.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.api.corsOrigins,
      exposedHeaders: [
        'X-Request-Id',
        'Retry-After',
        'Location',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'RateLimit-Policy',
      ],
    });
  }
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      // The OpenAI-compatible API sits where OpenAI's clients look for it (`<base>/v1/...`).
      { path: 'v1/models', method: RequestMethod.GET },
      { path: 'v1/chat/completions', method: RequestMethod.POST },
    ],
  });
  app.useGlobalFilters(new ProblemFilter(logger));
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('GigaChat API')
      .setDescription(
        'Self-hostable chat backend: every chat turn is a durable Temporal workflow. Errors are application/problem+json.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'PASETO v4.local or gct_ API token' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return app;
}
