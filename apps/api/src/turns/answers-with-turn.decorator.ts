import { applyDecorators } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiProduces } from '@nestjs/swagger';
import { ApiProblems } from '../common/problem.responses';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';

/**
 * What a route answered by `TurnResponder.respond` declares: it needs `chat:write`, counts towards the per-user chat
 * limit, and documents the three ways it answers, its headers and its problems (403 where shares may fall short).
 */
export function AnswersWithTurn(options: { forbidden?: boolean } = {}): MethodDecorator {
  return applyDecorators(
    RequireScopes('chat:write'),
    RateLimit('chat'),
    ApiProduces('application/json', 'text/event-stream'),
    ApiOkResponse({ description: '{turnId, userMessage, assistantMessage, citations}, or the SSE stream' }),
    ApiAcceptedResponse({ description: 'With Prefer: respond-async: the queued turn and its eventsUrl' }),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'A retried request with the same key gets the same turn',
    }),
    ApiHeader({ name: 'Prefer', required: false, description: '`respond-async` to get 202 at once' }),
    ...(options.forbidden
      ? [ApiProblems(400, 403, 404, 409, 413, 415, 422, 502, 503, 504)]
      : [ApiProblems(400, 404, 409, 413, 415, 422, 502, 503, 504)]),
  );
}
