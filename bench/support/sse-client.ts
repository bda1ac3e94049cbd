import { request as httpRequest } from 'node:http';
import { compareStreamIds } from '#libs/events/turn-event-log';
import { sseDecoder, type SseEvent } from '../../test/support/sse';

export interface TimedSseEvent extends SseEvent {
  /** performance.now() when the event was parsed. */
  at: number;
}

export interface SseReply {
  status: number;
  events: TimedSseEvent[];
  /** The response body when it was not an event stream (an error). */
  text: string;
}

/** Reads a whole SSE response (node:http, no buffering), timing each event as it arrives. */
export function readSse(
  url: string,
  headers: Record<string, string>,
  options: { method?: 'GET' | 'POST'; body?: unknown } = {},
): Promise<SseReply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: { accept: 'text/event-stream', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        const events: TimedSseEvent[] = [];
        let text = '';
        const streaming = /^text\/event-stream/.test(res.headers['content-type'] ?? '');
        const decode = sseDecoder((event) => events.push({ ...event, at: performance.now() }));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (streaming) decode(chunk);
          else text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, events, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * The answer a client following the protocol shows: the `token` deltas after the last `step` `generation`
 * `restarted` (a generation retried after its worker stalled or died streams again from the start), and how many
 * restarts the stream carried.
 */
export function answerText(events: readonly TimedSseEvent[]): { text: string; restarts: number } {
  let text = '';
  let restarts = 0;
  for (const event of events) {
    const data = event.data as { delta?: string; name?: string; status?: string };
    if (event.event === 'token') text += data.delta ?? '';
    else if (event.event === 'step' && data.name === 'generation' && data.status === 'restarted') {
      text = '';
      restarts++;
    }
  }
  return { text, restarts };
}

/** Redis stream ids (`<ms>-<seq>`) strictly increasing. */
export function idsIncrease(events: readonly TimedSseEvent[]): boolean {
  return events.every((event, i) => i === 0 || compareStreamIds(events[i - 1]!.id, event.id) < 0);
}
