import { applyDecorators } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiProduces } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems } from '../common/problem.responses';
import { RateLimit } from '../security/rate-limit.decorator';
import { RequireScopes } from '../security/require-scopes.decorator';
import { ValidationError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import type { TurnView } from '../turns/turn.view';
import type { TurnRequest, TurnsService } from '../turns/turns.service';

/** A client's Idempotency-Key: 1–255 visible ASCII characters, compared case-sensitively. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Answers a turn the way `POST /conversations/:id/messages` does: SSE for `Accept: text/event-stream`, 202 for
 * `Prefer: respond-async`, else 200 `{turnId, userMessage, assistantMessage, citations}` once the reply is saved.
 * `request` is built only after the Idempotency-Key is checked, so a bad header writes nothing.
 */
export async function respondWithTurn(
  turns: TurnsService,
  principal: Principal,
  request: () => Promise<TurnRequest>,
  req: Request,
  res: Response,
): Promise<void> {
  const idempotencyKey = req.header('idempotency-key');
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }]);
  }
  const turn = await request();
  const options = { idempotencyKey, requestId: req.requestId };
  if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
    await turns.runStreaming(principal, turn, options, res);
    return;
  }
  const prefer = req.header('prefer');
  if (prefer && /(^|[\s,;])respond-async($|[\s,;])/i.test(prefer)) {
    const queued = await turns.runAsync(principal, turn, options);
    res.status(202).setHeader('Preference-Applied', 'respond-async');
    res.setHeader('Location', `/api/v1/turns/${queued.id}`);
    res.json({ ...queued, eventsUrl: `/api/v1/turns/${queued.id}/events` } satisfies TurnView & { eventsUrl: string });
    return;
  }
  res.status(200).json(await turns.runAndWait(principal, turn, options));
}

/**
 * What a route answered by `respondWithTurn` declares: it needs `chat:write`, counts towards the per-user chat
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
      ? [ApiProblems(400, 403, 404, 413, 415, 422, 502, 503, 504)]
      : [ApiProblems(400, 404, 413, 415, 422, 502, 503, 504)]),
  );
}
