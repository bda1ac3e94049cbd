import type { ServerResponse } from 'node:http';
import type { Logger } from '../logging/logger';
import type { TurnEventHub } from './turn-event-hub';
import { followTurnEvents, type TurnOutcome } from './turn-event-follower';
import type { TurnEventLog } from './turn-event-log';

export type { TurnOutcome } from './turn-event-follower';

export interface StreamTurnOptions {
  res: ServerResponse;
  /** The shared reader that follows the turn's stream. */
  hub: TurnEventHub;
  /** Non-blocking look-ups on the stream. */
  events: TurnEventLog;
  turnId: string;
  /** Send the events after this stream id (`0`: from the start). */
  afterId: string;
  /** Reads the turn's row: asked when the stream is quiet. */
  outcome: () => Promise<TurnOutcome>;
  logger: Logger;
  keepAliveMs?: number;
  /** How long without events before the database is asked whether the turn ended. */
  quietMs?: number;
  /** How long a turn the database shows ended may go on without its final event before one is synthesized. */
  graceMs?: number;
}

/**
 * Serves a turn's Redis Stream as server-sent events until `message.completed`, `turn.failed` or `turn.cancelled`.
 * Each event carries its stream id, so a client that reconnects with `Last-Event-ID` gets every event once. A client
 * that goes away stops only this reader, never the turn; a slow one pauses its reading (the socket buffer is the only
 * buffer) and goes on from its last event when the socket drains.
 */
export async function streamTurnEvents(options: StreamTurnOptions): Promise<void> {
  const { res, turnId, logger } = options;
  // Asked before the headers, so a Redis outage is still a 503 (the shared connection fails fast while it is down) —
  // unless the turn has ended: then the database has its answer, and the follower sends it.
  try {
    await options.events.exists(turnId);
  } catch (error) {
    if (!(await options.outcome()).ended) throw error;
  }

  const stop = new AbortController();
  const onClose = (): void => stop.abort();
  // The response closes when the client goes away (or when it ends): either way the follower stops.
  res.on('close', onClose);
  // The client may have gone while the turn was being created: then there is no one to stream to.
  if (res.destroyed || res.socket?.destroyed) onClose();

  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  try {
    await followTurnEvents({
      hub: options.hub,
      log: options.events,
      turnId,
      afterId: options.afterId,
      outcome: options.outcome,
      logger,
      signal: stop.signal,
      ...(options.quietMs !== undefined ? { quietMs: options.quietMs } : {}),
      ...(options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {}),
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      target: {
        send: (event) => res.write(`id: ${event.id}\nevent: ${event.event}\ndata: ${event.data}\n\n`),
        onDrain: (resume) => res.once('drain', resume),
        keepAlive: () => void res.write(': keep-alive\n\n'),
      },
    });
  } catch (error) {
    if (!stop.signal.aborted)
      logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}
