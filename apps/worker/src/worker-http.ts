import { createServer, type Server } from 'node:http';
import type { Logger } from '#libs/logging/logger';
import { mayScrape, type WorkerMetrics } from '#libs/metrics/metrics';

export interface WorkerHttpOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** `METRICS_TOKEN`: required as a bearer token on /metrics when set; otherwise loopback clients only. */
  token: string;
  metrics: WorkerMetrics;
  /** More Prometheus text appended to the scrape (the Temporal SDK core's series). */
  more?: () => Promise<string>;
  /** Whether every poller runs and the database answers. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  logger: Logger;
}

export interface WorkerHttp {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's small HTTP server: `GET /metrics` (Prometheus), `GET /health/live` (the process answers) and
 * `GET /health/ready` (every poller runs and the database answers; 503 naming what does not). Bound to loopback by
 * default (`WORKER_METRICS_HOST`), so it is never public by accident.
 */
export async function startWorkerHttp(options: WorkerHttpOptions): Promise<WorkerHttp> {
  const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async () => {
      if (req.method !== 'GET') return json(405, { title: 'Method not allowed', status: 405 });
      if (path === '/health/live') return json(200, { status: 'ok' });
      if (path === '/health/ready') {
        const { ready, checks } = await options.ready();
        return json(ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable', checks });
      }
      if (path === '/metrics') {
        if (!mayScrape(options.token, req.headers.authorization, req.socket.remoteAddress)) {
          return json(403, {
            title: 'Forbidden',
            status: 403,
            detail: 'The metrics need METRICS_TOKEN, or a loopback client',
          });
        }
        const { contentType, body } = await options.metrics.exposition();
        return { status: 200, type: contentType, body: options.more ? `${body}\n${await options.more()}` : body };
      }
      return json(404, { title: 'Not found', status: 404 });
    };
    answer()
      .catch((error: unknown) => {
        options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'worker http failed');
        return json(500, { title: 'Internal error', status: 500 });
      })
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  options.logger.info({ host: options.host, port }, 'worker metrics and health served');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
