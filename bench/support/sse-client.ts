import { request as httpRequest } from 'node:http';

export interface TimedSseEvent {
  id: string;
  event: string;
  data: unknown;
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
        let buffer = '';
        let text = '';
        const streaming = /^text\/event-stream/.test(res.headers['content-type'] ?? '');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!streaming) {
            text += chunk;
            return;
          }
          buffer += chunk;
          const at = performance.now();
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(frame)?.[1];
            const event = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (id === undefined || event === undefined) continue;
            events.push({ id, event, data: data === undefined ? undefined : JSON.parse(data), at });
          }
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

/** The concatenated `token` deltas of a stream. */
export function tokenText(events: readonly TimedSseEvent[]): string {
  return events
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');
}

/** Redis stream ids (`<ms>-<seq>`) strictly increasing. */
export function idsIncrease(events: readonly TimedSseEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    const [am = 0, as = 0] = events[i - 1]!.id.split('-').map(Number);
    const [bm = 0, bs = 0] = events[i]!.id.split('-').map(Number);
    if (!(am < bm || (am === bm && as < bs))) return false;
  }
  return true;
}
