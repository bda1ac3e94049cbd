import type { ServerResponse } from 'node:http';
import type { Logger } from '../logging/logger';
import { compareStreamIds, TERMINAL_EVENTS, TurnEvent, TurnEventLog } from './turn-event-log';

/** What the database says about a turn, to end a stream the worker can no longer finish (expired, or never fed). */
export interface TurnOutcome {
  ended: boolean;
  /** The event to end with: `message.completed` or `turn.failed`, payload included. */
  terminal?: { event: string; data: unknown };
}

export interface StreamTurnOptions {
  res: ServerResponse;
  events: TurnEventLog;
  turnId: string;
  /** Send the events after this stream id (`0`: from the start). */
  afterId: string;
  /** Reads the turn's row: asked when the stream is quiet. */
  outcome: () => Promise<TurnOutcome>;
  logger: Logger;
  keepAliveMs?: number;
  blockMs?: number;
  /** How long a turn the database shows ended may go on without its final event before one is synthesized. */
  graceMs?: number;
}

/**
 * Serves a turn's Redis Stream as server-sent events until `message.completed` or `turn.failed`. Each event carries
 * its stream id, so a client that reconnects with `Last-Event-ID` gets every event once. A client that goes away
 * stops only this reader, never the turn.
 */
export async function streamTurnEvents(options: StreamTurnOptions): Promise<void> {
  const { res, turnId, logger } = options;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const blockMs = Math.min(options.blockMs ?? 5_000, keepAliveMs);
  const graceMs = options.graceMs ?? 5_000;

  // A connection of its own: XREAD BLOCK holds it. Opened before the headers, so a Redis outage is still a 503.
  const reader = await options.events.reader();
  let closed = false;
  const onClose = (): void => {
    closed = true;
    reader.release();
  };
  // The response closes when the client goes away (or when it ends): either way the reader stops.
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

  let cursor = options.afterId;
  let lastWrite = Date.now();
  let endedSince: number | undefined;
  const write = (chunk: string): void => {
    lastWrite = Date.now();
    res.write(chunk);
  };
  const send = (event: TurnEvent): void => write(`id: ${event.id}\nevent: ${event.event}\ndata: ${event.data}\n\n`);
  const synthesize = (terminal: { event: string; data: unknown }): void => {
    const [ms = '0'] = cursor.split('-');
    const id = `${Math.max(Date.now(), Number(ms) + 1)}-0`;
    send({ id, event: terminal.event, data: JSON.stringify(terminal.data) });
  };

  try {
    // The client already has the final event (it resumed after it): nothing more to send.
    const alreadyFinished = async (): Promise<boolean> => {
      const last = await reader.log.last(turnId);
      return last !== undefined && TERMINAL_EVENTS.has(last.event) && compareStreamIds(last.id, cursor) <= 0;
    };
    // Already over: the stream gone (expired) is answered from the database at once.
    const initial = await options.outcome();
    if (initial.ended && initial.terminal) {
      if (!(await reader.log.exists(turnId))) {
        synthesize(initial.terminal);
        return;
      }
      if (await alreadyFinished()) return;
    }
    while (!closed) {
      const batch = await reader.log.read(turnId, cursor, blockMs);
      if (closed) break;
      for (const event of batch) {
        send(event);
        cursor = event.id;
        if (TERMINAL_EVENTS.has(event.event)) return;
      }
      if (batch.length > 0) continue;
      // Quiet: the turn may have ended with its stream expired or unfed (Redis was down for the worker).
      const outcome = await options.outcome();
      if (outcome.ended && outcome.terminal) {
        if (await alreadyFinished()) return;
        endedSince ??= Date.now();
        if (!(await reader.log.exists(turnId)) || Date.now() - endedSince >= graceMs) {
          synthesize(outcome.terminal);
          return;
        }
      }
      if (Date.now() - lastWrite >= keepAliveMs - blockMs / 2) write(': keep-alive\n\n');
    }
  } catch (error) {
    if (!closed)
      logger.warn({ turnId, err: error instanceof Error ? error.message : String(error) }, 'turn stream failed');
  } finally {
    res.off('close', onClose);
    reader.release();
    if (!res.writableEnded) res.end();
  }
}
