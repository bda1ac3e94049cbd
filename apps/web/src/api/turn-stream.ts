import { SseParser } from '../lib/sse-parser';
import { ApiError, errorFrom } from './api-error';
import { refresh, validAccessToken } from './session';
import type { TurnEvent } from './types';

export interface FollowOptions {
  /** Resume after this event id (`Last-Event-ID`); from the start when undefined. */
  lastEventId?: string;
  signal: AbortSignal;
  onEvent: (event: TurnEvent, id: string | undefined) => void;
  /** Told when the connection dropped and a reconnect is pending (`true`) or the stream is live again (`false`). */
  onReconnecting?: (waiting: boolean) => void;
}

const TERMINAL = new Set(['message.completed', 'turn.failed', 'turn.cancelled']);

/**
 * Follows a turn's events over `fetch` and the SSE wire format (EventSource cannot send an Authorization header) until
 * its final event. A dropped connection (network loss, a restarted API) is retried with `Last-Event-ID`, so every
 * event arrives once, in order. Resolves after the final event; rejects on a 4xx (the turn is gone or not ours) or an
 * abort.
 */
export async function followTurn(turnId: string, options: FollowOptions): Promise<void> {
  let lastEventId = options.lastEventId;
  let delay = 500;
  for (;;) {
    options.signal.throwIfAborted();
    let finished = false;
    try {
      const token = await validAccessToken();
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(`/api/v1/turns/${encodeURIComponent(turnId)}/events`, {
        headers,
        signal: options.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        const error = await errorFrom(res);
        if (error.code === 'token_expired' && (await refresh().catch(() => false))) continue;
        throw error;
      }
      if (res.status >= 400 && res.status < 500) throw await errorFrom(res);
      if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
      options.onReconnecting?.(false);
      delay = 500;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) {
          if (message.id) lastEventId = message.id;
          let data: unknown;
          try {
            data = JSON.parse(message.data);
          } catch {
            continue;
          }
          options.onEvent({ event: message.event, data } as TurnEvent, message.id);
          if (TERMINAL.has(message.event)) finished = true;
        }
        if (finished) {
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (error instanceof ApiError) throw error;
    }
    // The stream ended without its final event: the connection was lost. Try again after a pause.
    options.onReconnecting?.(true);
    await pause(delay, options.signal);
    delay = Math.min(delay * 2, 8_000);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('Aborted', 'AbortError'));
    };
    const timer = setTimeout(done, ms);
    window.addEventListener('online', done, { once: true });
    signal.addEventListener('abort', abort, { once: true });
  });
}
