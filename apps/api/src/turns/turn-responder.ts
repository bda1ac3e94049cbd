import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ServiceUnavailableError, ValidationError } from '#libs/errors/app-error';
import { STREAM_ID } from '#libs/events/turn-event-log';
import { streamTurnEvents } from '#libs/events/turn-event-stream';
import type { Logger } from '#libs/logging/logger';
import { ApiMetrics } from '#libs/metrics/metrics';
import type { Principal } from '../auth/principal';
import { LOGGER } from '../infra/di-symbols';
import type { TurnRequest } from './turn-request';
import type { TurnView } from './turn.view';
import { TurnsService } from './turns.service';

/** A client's Idempotency-Key: 1–255 visible ASCII characters, compared case-sensitively. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The HTTP side of chat turns, owned by the controllers that answer with one: it reads the request's headers, asks
 * TurnsService for values and writes the response — JSON once the reply is saved, 202 at once, or the turn's events as
 * server-sent events.
 */
@Injectable()
export class TurnResponder {
  constructor(
    private readonly turns: TurnsService,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: ApiMetrics,
  ) {}

  /**
   * Answers a turn the way `POST /conversations/:id/messages` does: SSE for `Accept: text/event-stream`, 202 for
   * `Prefer: respond-async`, else 200 `{turnId, userMessage, assistantMessage, citations}` once the reply is saved.
   * `request` is built only after the Idempotency-Key is checked, so a bad header writes nothing.
   */
  async respond(principal: Principal, request: () => Promise<TurnRequest>, req: Request, res: Response): Promise<void> {
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ValidationError([{ field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }]);
    }
    const created = await this.turns.create(principal, await request(), { idempotencyKey, requestId: req.requestId });
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      await this.turns.start(created);
      res.setHeader('Location', `/api/v1/turns/${created.turn.id}`);
      await this.stream(created.turn.id, '0', res);
      return;
    }
    const prefer = req.header('prefer');
    if (prefer && /(^|[\s,;])respond-async($|[\s,;])/i.test(prefer)) {
      const queued = await this.turns.start(created);
      res.status(202).setHeader('Preference-Applied', 'respond-async');
      res.setHeader('Location', `/api/v1/turns/${queued.id}`);
      // shared/API.md's `{turnId, eventsUrl}`, plus the whole turn as GET /turns/:id shows it.
      res.json({ turnId: queued.id, ...queued, eventsUrl: `/api/v1/turns/${queued.id}/events` } satisfies TurnView & {
        turnId: string;
        eventsUrl: string;
      });
      return;
    }
    res.status(200).json(await this.turns.answer(created));
  }

  /** `GET /turns/:id/events`: the turn's events as SSE, after the `Last-Event-ID` header or `lastEventId` query. */
  async respondWithEvents(
    principal: Principal,
    turnId: string,
    lastEventId: { header?: string; query?: unknown },
    res: Response,
  ): Promise<void> {
    const afterId = resumePoint(lastEventId);
    await this.turns.requireReadableTurn(principal, turnId);
    await this.stream(turnId, afterId, res);
  }

  private async stream(turnId: string, afterId: string, res: Response): Promise<void> {
    this.metrics.streamsOpen.inc({ transport: 'sse' });
    try {
      await streamTurnEvents({ res, turnId, afterId, ...this.turns.eventSource(turnId) });
    } catch (error) {
      if (res.headersSent) return;
      this.logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
      throw new ServiceUnavailableError('Live turn events are unavailable right now; try again', 1);
    } finally {
      this.metrics.streamsOpen.dec({ transport: 'sse' });
    }
  }
}

/** Where a stream resumes: after the `Last-Event-ID` header (which wins) or `lastEventId`, else from the start. */
function resumePoint({ header, query }: { header?: string; query?: unknown }): string {
  const given = header?.trim();
  if (given) {
    if (!STREAM_ID.test(given)) {
      throw new ValidationError([{ field: 'Last-Event-ID', message: 'must be an event id this stream sent' }]);
    }
    return given;
  }
  if (query === undefined) return '0';
  if (typeof query !== 'string' || !STREAM_ID.test(query)) {
    throw new ValidationError([{ field: 'lastEventId', message: 'must be an event id this stream sent' }]);
  }
  return query;
}
