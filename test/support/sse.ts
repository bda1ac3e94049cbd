import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { compareStreamIds } from '#libs/events/turn-event-log';

/** One event of a `text/event-stream` response. */
export interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The events so far, in order. */
  events: SseEvent[];
  /** The comment lines (`: …`) so far, e.g. keep-alives. */
  comments: string[];
  /** Resolves when the server ends the stream (or the client closed it). */
  done: Promise<void>;
  close(): void;
}

/**
 * Decodes a `text/event-stream` body fed chunk by chunk: `onEvent` sees each complete event (multi-line data joined,
 * parsed as JSON), `onComment` each comment line.
 */
export function sseDecoder(
  onEvent: (event: SseEvent) => void,
  onComment: (line: string) => void = () => undefined,
): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = '';
      let event: string | undefined;
      let data: string | undefined;
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) onComment(line);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = (data === undefined ? '' : `${data}\n`) + line.slice(6);
      }
      if (event !== undefined) onEvent({ id, event, data: data === undefined ? undefined : JSON.parse(data) });
    }
  };
}

/**
 * Opens an SSE response on node:http (supertest buffers the whole response); resolves once the headers arrived, the
 * events then accumulate in the returned stream. `onEvent` sees each event as it arrives.
 */
export function openSse(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  options: { method?: 'GET' | 'POST'; body?: unknown; onEvent?: (event: SseEvent, stream: SseStream) => void } = {},
): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method: options.method ?? 'GET',
        headers: {
          Accept: 'text/event-stream',
          ...(body ? { 'Content-Type': 'application/json' } : {}),
          ...headers,
        },
      },
      (res) => {
        let finish: () => void = () => undefined;
        const stream: SseStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          events: [],
          comments: [],
          done: new Promise<void>((done) => (finish = done)),
          close: () => {
            req.destroy();
            finish();
          },
        };
        res.setEncoding('utf8');
        res.on(
          'data',
          sseDecoder(
            (event) => {
              stream.events.push(event);
              options.onEvent?.(event, stream);
            },
            (line) => stream.comments.push(line),
          ),
        );
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        resolve(stream);
      },
    );
    req.on('error', (error) => reject(error));
    if (body) req.write(body);
    req.end();
  });
}

/** The concatenated `token` deltas of a turn's events. */
export function tokensOf(events: readonly { event: string; data: unknown }[]): string {
  return events
    .filter((e) => e.event === 'token')
    .map((e) => (e.data as { delta: string }).delta)
    .join('');
}

/** Whether `event` is the `restarted` step a retried generation sends (a client drops the text it has so far). */
export function isRestart(event: { event: string; data: unknown }): boolean {
  const data = event.data as { name?: string; status?: string };
  return event.event === 'step' && data.name === 'generation' && data.status === 'restarted';
}

/** The text a client shows from a turn's events: the `token` deltas after the last `restarted` generation. */
export function shownText(events: readonly { event: string; data: unknown }[]): string {
  const lastRestart = events.findLastIndex(isRestart);
  return tokensOf(events.slice(lastRestart + 1));
}

/** Expects the events' Redis stream ids (`<ms>-<seq>`) to increase strictly. */
export function expectStrictlyIncreasing(events: readonly { id: string }[]): void {
  for (let i = 1; i < events.length; i++) expect(compareStreamIds(events[i - 1]!.id, events[i]!.id)).toBeLessThan(0);
}
