import type { Request, Response } from 'express';
import { ValidationError } from '../../../../libs/errors/app-error';
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
